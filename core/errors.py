"""Errors a service raises when it refuses a request; every door shows `message` to its user."""


class ActionError(Exception):
    """A request that cannot be carried out; the message is for the user.

    `field_errors` ({"lines[0].quantity": ["..."]}) says which input each problem belongs to, for
    doors that can show it there (API responses, form fields); `message` still says it all.
    """

    def __init__(self, message, *, field_errors=None):
        super().__init__(message)
        self.message = message
        self.field_errors = dict(field_errors or {})


class PermissionRefused(ActionError):
    pass


class TransitionRefused(ActionError):
    pass


class Conflict(ActionError):
    pass
