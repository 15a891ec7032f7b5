"""What happens to a return, published on the in-transaction event bus (core.events)."""

from dataclasses import dataclass

from core.actors import Actor


@dataclass(frozen=True)
class ReturnRequested:
    """The shop asked 35up to take back some lines of an order (POST /returns follows)."""

    return_request: object
    actor: Actor


@dataclass(frozen=True)
class ReturnActionRequested:
    """A shop-settable status was applied locally (PATCH /returns/{id} follows)."""

    return_request: object
    action: str
    from_status: str
    message: str
    actor: Actor


@dataclass(frozen=True)
class ReturnStatusReported:
    """35up reported a return status that was applied (the answer to POST /returns included)."""

    return_request: object
    from_status: str
    actor: Actor
