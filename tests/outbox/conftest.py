"""The outbox against the real sandbox over HTTP: pytest-django's live server (a thread of this
process sharing the test database), the real clients, a worker loop driven by the test."""

import time
from dataclasses import dataclass

import pytest
from django.db import connection

from integrations.providers import Provider
from outbox import services
from outbox.models import Delivery, DeliveryState
from sandbox import faults

SANDBOX_PATHS = {
    "THIRTYFIVEUP_BASE_URL": "/sandbox/35up/v1",
    "SENDCLOUD_BASE_URL": "/sandbox/sendcloud/api/v3",
    "SHIPUP_BASE_URL": "/sandbox/shipup",
    "REEVOO_BASE_URL": "/sandbox/reevoo/v4",
}
SETTLE_EVERY_SECONDS = 1.0
FINISHED = [DeliveryState.SUCCEEDED, DeliveryState.FAILED, DeliveryState.DEAD]


@pytest.fixture
def providers_at_sandbox(live_server, settings):
    """All four providers pointed at the sandbox, short timeouts, a retry schedule in ms."""
    for name, path in SANDBOX_PATHS.items():
        setattr(settings, name, live_server.url + path)
    settings.PROVIDER_CONNECT_TIMEOUT = 2.0
    settings.PROVIDER_READ_TIMEOUT = 0.4
    settings.OUTBOX_RETRY_SCHEDULE = [0, 0.005, 0.01, 0.02, 0.04] + [0.05] * 20
    settings.OUTBOX_LEASE_SECONDS = 30
    # The sandbox has no rate limits; the limiter is tested on its own (test_ratelimit.py).
    settings.PROVIDER_RATE_LIMITS = {}
    faults.reset_faults()
    return live_server.url


@dataclass
class WorkerRun:
    rounds: int = 0
    attempted: int = 0
    seconds: float = 0.0
    # Ambiguous Reevoo submissions (no way to look them up) that a person sent again.
    staff_retries: int = 0


def run_worker_until_settled(*, timeout=240):
    """What workers, beat and a person at the admin do, in one loop: send what is due, settle
    ambiguous 35up placements by looking them up, and retry ambiguous Reevoo submissions as
    staff would after checking with Reevoo, until every delivery is finished (or time is up)."""
    run = WorkerRun()
    started = last_settled = time.monotonic()
    while time.monotonic() - started < timeout:
        run.rounds += 1
        attempted = services.send_due()
        run.attempted += attempted
        # Beat's sync settles ambiguous placements now and then, not after every round: each
        # settlement may read 35up's whole order list (it promises no filter).
        settle_due = time.monotonic() - last_settled >= SETTLE_EVERY_SECONDS
        if settle_due and Delivery.objects.filter(state=DeliveryState.AMBIGUOUS).exists():
            last_settled = time.monotonic()
            services.settle_ambiguous(provider=Provider.THIRTYFIVEUP)
            for delivery_id in Delivery.objects.filter(
                provider="reevoo", state=DeliveryState.AMBIGUOUS
            ).values_list("pk", flat=True):
                run.staff_retries += services.retry_now(delivery_id=delivery_id, actor_label="soak")
        if not Delivery.objects.exclude(state__in=FINISHED).exists():
            break
        if not attempted:
            time.sleep(0.01)
    run.seconds = time.monotonic() - started
    return run


def shared_database_url():
    """The test database as the worker process must open it."""
    db = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{db['NAME']}"
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
