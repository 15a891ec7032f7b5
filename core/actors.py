"""Who or what asks for a change: recorded on every history row of every state machine."""

from dataclasses import dataclass

from django.db import models


class ChangeSource(models.TextChoices):
    STAFF = "staff", "Staff"
    API = "api", "API client"
    PROVIDER = "provider", "35up sync"
    SYSTEM = "system", "System"


@dataclass(frozen=True)
class Actor:
    source: str
    user: object = None
    label: str = ""

    @classmethod
    def staff(cls, user):
        return cls(ChangeSource.STAFF, user, user.get_username())

    @classmethod
    def api(cls, user):
        return cls(ChangeSource.API, user, user.get_username())

    @classmethod
    def provider(cls, label="35up sync"):
        return cls(ChangeSource.PROVIDER, None, label)

    @classmethod
    def system(cls, label="system"):
        return cls(ChangeSource.SYSTEM, None, label)

    def has_perm(self, permission):
        """Staff and API clients need the permission; the hub's own processes act by design."""
        if self.source in (ChangeSource.STAFF, ChangeSource.API):
            return self.user is not None and self.user.has_perm(permission)
        return True
