"""A limiter shared by every process, so the hub never sends faster than a provider publishes.

Each limit reads "at most N requests in any S seconds" (settings.PROVIDER_RATE_LIMITS). The state
is a log of recent request times per provider and kind (read/write): a sorted set in Redis when
REDIS_URL is set (one Lua script, atomic), else one database row locked with select_for_update.
A sliding window is strict: it never allows N+1 requests in any window, where a token bucket sized
N would allow up to 2N across a window boundary. Shipup's leaky bucket (2/s, burst 60) becomes
"60 in any 30 s", which never overfills that bucket.

Times are epoch seconds from each process's clock: hosts sharing a limiter must keep NTP time.
"""

import bisect
import time
import uuid
from dataclasses import dataclass
from functools import cache

import redis
from django.conf import settings
from django.db import transaction

from integrations.errors import ProviderThrottled, RetryableProviderError
from integrations.models import RateLimitLog

KEY_PREFIX = "orderhub:ratelimit:"


@dataclass(frozen=True)
class Limit:
    requests: int
    seconds: float

    @classmethod
    def parse(cls, text):
        """'100/60' -> at most 100 requests in any 60 seconds."""
        requests, _, seconds = str(text).partition("/")
        limit = cls(int(requests), float(seconds))
        if limit.requests < 1 or limit.seconds <= 0:
            raise ValueError(f"Rate limit '{text}' must read N/S with N >= 1 and S > 0.")
        return limit

    def __str__(self):
        return f"{self.requests}/{self.seconds:g}s"


def limits_for(provider, kind):
    """The configured limits of one provider and kind ('read' or 'write'); empty when none."""
    return [
        Limit.parse(text) for text in settings.PROVIDER_RATE_LIMITS.get(f"{provider}:{kind}", [])
    ]


def seconds_until_free(hits, limits, now):
    """How long until one more request fits every limit, given ascending request times."""
    wait = 0.0
    for limit in limits:
        first_in_window = bisect.bisect_right(hits, now - limit.seconds)
        in_window = len(hits) - first_in_window
        if in_window >= limit.requests:
            # The request that must leave the window before one more fits.
            leaving = hits[first_in_window + in_window - limit.requests]
            wait = max(wait, leaving + limit.seconds - now)
    return wait


class DatabaseStore:
    """One row per key holding the recent request times; the row lock serialises processes."""

    def try_acquire(self, key, limits, now):
        longest = max(limit.seconds for limit in limits)
        RateLimitLog.objects.get_or_create(key=key)
        with transaction.atomic():
            log = RateLimitLog.objects.select_for_update().get(key=key)
            hits = sorted(hit for hit in log.hits if hit > now - longest)
            wait = seconds_until_free(hits, limits, now)
            if wait <= 0:
                bisect.insort(hits, now)
            log.hits = hits
            log.save(update_fields=["hits"])
        return wait


# KEYS[1] the sorted set; ARGV: now, longest window, unique member, then pairs (requests, seconds).
# Returns the seconds to wait as a string (Redis would truncate a Lua number to an integer).
ACQUIRE_SCRIPT = """
local key = KEYS[1]
local now = tonumber(ARGV[1])
local longest = tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', key, '-inf', now - longest)
local wait = 0
for i = 4, #ARGV, 2 do
  local requests = tonumber(ARGV[i])
  local seconds = tonumber(ARGV[i + 1])
  local low = '(' .. tostring(now - seconds)
  local in_window = redis.call('ZCOUNT', key, low, '+inf')
  if in_window >= requests then
    local leaving = redis.call('ZRANGEBYSCORE', key, low, '+inf', 'WITHSCORES',
                               'LIMIT', in_window - requests, 1)
    local free_in = tonumber(leaving[2]) + seconds - now
    if free_in > wait then wait = free_in end
  end
end
if wait > 0 then return tostring(wait) end
redis.call('ZADD', key, now, ARGV[3])
redis.call('PEXPIRE', key, math.ceil(longest * 1000))
return '0'
"""


@cache
def _redis_script(url):
    return redis.Redis.from_url(url).register_script(ACQUIRE_SCRIPT)


class RedisStore:
    def __init__(self, url):
        self.script = _redis_script(url)

    def try_acquire(self, key, limits, now):
        args = [repr(now), repr(max(limit.seconds for limit in limits)), uuid.uuid4().hex]
        for limit in limits:
            args += [limit.requests, repr(limit.seconds)]
        return float(self.script(keys=[KEY_PREFIX + key], args=args))


class RateLimiter:
    """Waits until a request fits the provider's limits, at most `max_wait` seconds in total, then
    raises ProviderThrottled. The outbox's default is 0: a delivery without a free slot is
    rescheduled for it, never slept on inside a worker."""

    def __init__(self, store, *, max_wait, clock=time.time, sleep=time.sleep):
        self.store = store
        self.max_wait = max_wait
        self.clock = clock
        self.sleep = sleep

    def acquire(self, provider, kind):
        """Take one slot; returns the seconds spent waiting. Raises ProviderRateLimited."""
        limits = limits_for(provider, kind)
        if not limits:
            return 0.0
        waited = 0.0
        while True:
            try:
                wait = self.store.try_acquire(f"{provider}:{kind}", limits, self.clock())
            except redis.RedisError as error:
                raise RetryableProviderError(
                    provider, f"The rate limiter is unavailable ({type(error).__name__})."
                ) from None
            if wait <= 0:
                return waited
            if waited + wait > self.max_wait:
                raise ProviderThrottled(
                    provider,
                    f"Rate limit {', '.join(map(str, limits))} for {kind}s reached: "
                    f"no free slot within {self.max_wait:g} s.",
                    retry_after=wait,
                )
            self.sleep(wait)
            waited += wait


def default_limiter():
    """The limiter the settings describe: Redis when REDIS_URL is set, else the database."""
    store = RedisStore(settings.REDIS_URL) if settings.REDIS_URL else DatabaseStore()
    return RateLimiter(store, max_wait=settings.PROVIDER_RATE_LIMIT_MAX_WAIT)
