"""What happens to an order, as published on the in-transaction event bus (core.events).

Subscribers (the integrations) run inside the transaction of the change: what they write commits
with it or not at all. Events carry the order as it is after the change.
"""

from dataclasses import dataclass

from core.actors import Actor


@dataclass(frozen=True)
class OrderReceived:
    """A new order came in (ingest); it is `new` until 35up answers its placement."""

    order: object
    actor: Actor


@dataclass(frozen=True)
class OrderActionRequested:
    """The shop asked for a transition (approve, hold, cancel) and it was applied locally."""

    order: object
    action: str
    from_status: str
    message: str
    actor: Actor


@dataclass(frozen=True)
class OrderStatusReported:
    """35up reported a status that was applied (the placement answer included)."""

    order: object
    from_status: str
    actor: Actor


@dataclass(frozen=True)
class ShipmentAdded:
    order: object
    shipment: object
    actor: Actor
