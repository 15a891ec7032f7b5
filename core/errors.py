"""Errors a service raises when it refuses a request; every door shows `message` to its user."""


class ActionError(Exception):
    """A request that cannot be carried out; the message is for the user."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message


class PermissionRefused(ActionError):
    pass


class TransitionRefused(ActionError):
    pass


class Conflict(ActionError):
    pass
