"""One request budget per API client (its user), API_THROTTLE_RATE ("600/minute"); answered
with 429 and Retry-After. The counts live in the "api" cache: Redis when REDIS_URL is set, so
that every web process shares them."""

from django.conf import settings
from django.core.cache import caches
from rest_framework.throttling import UserRateThrottle


class ClientRateThrottle(UserRateThrottle):
    scope = "client"

    def __init__(self):
        self.cache = caches["api"]
        super().__init__()

    def get_rate(self):
        # Read per request, not at import: the setting is the one source.
        return settings.API_THROTTLE_RATE or None
