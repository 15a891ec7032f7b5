"""The shared limiter: a fake clock for time, both stores, and many threads on Redis."""

import threading
import uuid

import pytest
import redis
import responses

from integrations.errors import ProviderRateLimited
from integrations.ratelimit import (
    DatabaseStore,
    Limit,
    RateLimiter,
    RedisStore,
    default_limiter,
    seconds_until_free,
)
from integrations.sendcloud.client import SendcloudClient
from tests.integrations.golden_json import golden

REDIS_URL = "redis://127.0.0.1:6379/15"


class FakeClock:
    """Time that moves only when the limiter sleeps (or the test says so)."""

    def __init__(self, now=1_800_000_000.0):
        self.now = now
        self.slept = []

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.slept.append(round(seconds, 6))
        self.now += seconds


def redis_reachable():
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=0.5).ping()
    except redis.RedisError:
        return False


@pytest.fixture(params=["database", "redis"])
def store(request):
    if request.param == "redis":
        if not redis_reachable():
            pytest.skip("No Redis at 127.0.0.1:6379")
        return RedisStore(REDIS_URL)
    request.getfixturevalue("db")
    return DatabaseStore()


@pytest.fixture
def provider(settings):
    """A provider name of its own, so runs in parallel never share a Redis key."""
    name = f"test-{uuid.uuid4().hex[:8]}"
    settings.PROVIDER_RATE_LIMITS = {
        f"{name}:write": ["100/60", "15/1"],
        f"{name}:read": ["3/10"],
    }
    return name


def test_limits_read_as_n_per_s():
    assert Limit.parse("100/60") == Limit(100, 60.0)
    assert Limit.parse("15/1") == Limit(15, 1.0)
    with pytest.raises(ValueError):
        Limit.parse("0/1")


def test_the_sliding_window_says_when_the_oldest_request_leaves_it():
    hits = [100.0, 100.5, 101.0]

    assert seconds_until_free(hits, [Limit(3, 10)], now=102.0) == pytest.approx(8.0)
    assert seconds_until_free(hits, [Limit(4, 10)], now=102.0) == 0
    assert seconds_until_free(hits, [Limit(3, 10)], now=110.0) == 0


def test_requests_within_the_limit_pass_at_once_and_the_next_waits(store, provider):
    clock = FakeClock()
    limiter = RateLimiter(store, max_wait=60, clock=clock, sleep=clock.sleep)

    waits = [limiter.acquire(provider, "read") for _ in range(4)]

    assert waits[:3] == [0, 0, 0]
    assert waits[3] == pytest.approx(10.0)
    assert clock.slept == [pytest.approx(10.0)]


def test_sendcloud_writes_burst_15_per_second_and_100_per_minute(store, provider):
    clock = FakeClock()
    limiter = RateLimiter(store, max_wait=120, clock=clock, sleep=clock.sleep)
    start = clock.now
    sent_at = []
    for _ in range(130):
        limiter.acquire(provider, "write")
        sent_at.append(clock.now - start)

    for index, moment in enumerate(sent_at):
        assert sum(1 for other in sent_at[index:] if other < moment + 1) <= 15
        assert sum(1 for other in sent_at[index:] if other < moment + 60) <= 100
    assert sent_at[14] == 0 and sent_at[15] == pytest.approx(1.0)
    assert sent_at[100] == pytest.approx(60.0)


def test_no_free_slot_within_the_max_wait_is_a_retryable_error(store, provider):
    clock = FakeClock()
    limiter = RateLimiter(store, max_wait=5, clock=clock, sleep=clock.sleep)
    for _ in range(3):
        limiter.acquire(provider, "read")

    with pytest.raises(ProviderRateLimited) as raised:
        limiter.acquire(provider, "read")

    assert raised.value.retryable
    assert raised.value.retry_after == pytest.approx(10.0)
    assert clock.slept == []


def test_a_provider_without_published_limits_is_never_held(store):
    clock = FakeClock()
    limiter = RateLimiter(store, max_wait=0, clock=clock, sleep=clock.sleep)

    assert [limiter.acquire("35up", "write") for _ in range(50)] == [0] * 50


def test_processes_sharing_redis_never_exceed_the_limit_together(provider, settings):
    if not redis_reachable():
        pytest.skip("No Redis at 127.0.0.1:6379")
    settings.PROVIDER_RATE_LIMITS = {f"{provider}:write": ["5/60"]}
    granted, refused = [], []
    start = threading.Barrier(20)

    def worker():
        limiter = RateLimiter(RedisStore(REDIS_URL), max_wait=0)
        start.wait()
        try:
            limiter.acquire(provider, "write")
            granted.append(1)
        except ProviderRateLimited:
            refused.append(1)

    threads = [threading.Thread(target=worker) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (len(granted), len(refused)) == (5, 15)


@pytest.mark.django_db
def test_the_settings_pick_redis_when_redis_url_is_set(settings):
    settings.REDIS_URL = ""
    assert isinstance(default_limiter().store, DatabaseStore)
    settings.REDIS_URL = REDIS_URL
    assert isinstance(default_limiter().store, RedisStore)


@pytest.mark.django_db
@pytest.mark.usefixtures("provider_settings")
@responses.activate
def test_the_client_takes_a_slot_before_each_call(settings):
    settings.PROVIDER_RATE_LIMITS = {"sendcloud:write": ["1/60"]}
    responses.post(
        "https://panel.sendcloud.test/api/v3/orders/",
        json=golden("sendcloud-orders-answer.json"),
        status=201,
    )
    clock = FakeClock()
    client = SendcloudClient.from_settings(
        limiter=RateLimiter(DatabaseStore(), max_wait=1, clock=clock, sleep=clock.sleep)
    )
    client.upsert_orders(golden("sendcloud-orders.json"))

    with pytest.raises(ProviderRateLimited):
        client.upsert_orders(golden("sendcloud-orders.json"))

    assert len(responses.calls) == 1


@pytest.mark.django_db(transaction=True)
def test_processes_sharing_the_database_never_exceed_the_limit_together(provider, settings):
    from django.db import connection, connections

    if connection.vendor != "postgresql":
        pytest.skip("Row locks between connections need PostgreSQL (SQLite serialises writes).")
    settings.PROVIDER_RATE_LIMITS = {f"{provider}:write": ["5/60"]}
    granted, refused = [], []
    start = threading.Barrier(10)

    def worker():
        limiter = RateLimiter(DatabaseStore(), max_wait=0)
        start.wait()
        try:
            limiter.acquire(provider, "write")
            granted.append(1)
        except ProviderRateLimited:
            refused.append(1)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert (len(granted), len(refused)) == (5, 5)
