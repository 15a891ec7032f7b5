"""Sandbox settings with their defaults: the demo and test settings set them, other settings
modules (production) never need them."""

from django.conf import settings

DEFAULTS = {
    # Seconds after which a GET moves an approved 35up order one step on
    # (approved -> processing -> fulfilled -> delivered, pending_cancellation -> cancelled), and
    # a return one step along its natural path (thirtyfiveup.NEXT_RETURN_OVER_TIME);
    # None: only the control endpoint moves orders and returns on.
    "SANDBOX_35UP_ADVANCE_SECONDS": None,
    # Status of a newly placed 35up order: "pending" (35up's default) or "approved".
    "SANDBOX_35UP_INITIAL_STATUS": "pending",
    # The token that opens the control endpoints (header X-Sandbox-Control-Token); empty: none
    # does, only a staff session.
    "SANDBOX_CONTROL_TOKEN": "",
}


def sandbox_setting(name):
    return getattr(settings, name, DEFAULTS[name])
