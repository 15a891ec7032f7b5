"""Crash: a real worker process (manage.py send_deliveries --loop) is killed with SIGKILL again
and again while it sends, many times between a provider's answer and the row that records it.
After a clean restart every order is at each provider exactly once and every delivery ended
succeeded. The worker is another process sharing the test database (a file on SQLite)."""

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings
from django.db.models import Count

from core.actors import Actor
from orders.ingest import ingest_order
from orders.models import Order
from outbox.models import Delivery, DeliveryState
from sandbox import faults
from sandbox.models import SandboxOrder, SandboxRequest, SandboxShipupOrder
from tests.outbox.conftest import shared_database_url
from tests.outbox.test_fault_soak import document

ROOT = Path(__file__).resolve().parents[2]
ORDERS = 40
KILLS = 15

pytestmark = [
    pytest.mark.slow,
    pytest.mark.timeout(600),
    pytest.mark.django_db(transaction=True),
]


def worker_environment():
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST")}
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=shared_database_url(),
        THIRTYFIVEUP_BASE_URL=settings.THIRTYFIVEUP_BASE_URL,
        SENDCLOUD_BASE_URL=settings.SENDCLOUD_BASE_URL,
        SHIPUP_BASE_URL=settings.SHIPUP_BASE_URL,
        REEVOO_BASE_URL=settings.REEVOO_BASE_URL,
        OUTBOX_RETRY_SCHEDULE="0,0.01,0.02,0.05,0.1,0.1,0.1,0.1,0.1,0.1,0.1,0.1",
        OUTBOX_LEASE_SECONDS="1",
        PROVIDER_READ_TIMEOUT="5",
        SHIPUP_RATE_LIMITS="1000/1",
    )
    return environment


def start_worker():
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "send_deliveries",
            "--loop",
            "--interval",
            "0.05",
            "--sync-every",
            "0.5",
            "--max-seconds",
            "120",
        ],
        cwd=ROOT,
        env=worker_environment(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def unrecorded_placements():
    """References 35up has created an order for, while the hub has no 35up id for them."""
    recorded = Order.objects.filter(thirtyfiveup_id__isnull=False).values("reference")
    return set(
        SandboxOrder.objects.exclude(reference__in=recorded).values_list("reference", flat=True)
    )


def unfinished():
    return Delivery.objects.exclude(
        state__in=[DeliveryState.SUCCEEDED, DeliveryState.FAILED, DeliveryState.DEAD]
    )


def test_orders_reach_each_provider_exactly_once_through_repeated_worker_kills(
    providers_at_sandbox,
):
    # While killing, every call is acted on at once but answered only a second later (well
    # within the worker's read timeout): a kill in that second hits the window between the
    # provider's change and the hub's record of it.
    faults.configure_faults(drop_rate=1.0, timeout_seconds=1.0)
    for number in range(ORDERS):
        ingest_order(document(number), actor=Actor.system("crash-test"))
    chaos = random.Random(9)

    kills_between_send_and_record = 0
    for _ in range(KILLS):
        already = unrecorded_placements()
        worker = start_worker()
        # Kill the moment 35up holds an order the hub has not recorded (or after a while).
        deadline = time.monotonic() + chaos.uniform(3.0, 6.0)
        while time.monotonic() < deadline:
            if unrecorded_placements() - already:
                kills_between_send_and_record += 1
                break
            time.sleep(0.02)
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
    requests_during_kills = SandboxRequest.objects.count()
    faults.reset_faults()

    worker = start_worker()
    deadline = time.monotonic() + 110
    while unfinished().exists() and time.monotonic() < deadline:
        time.sleep(0.2)
    worker.terminate()
    worker.wait(timeout=30)

    per_reference = SandboxOrder.objects.values("reference").annotate(n=Count("id"))
    duplicates = sum(row["n"] - 1 for row in per_reference if row["n"] > 1)
    found_by_reference = Delivery.objects.filter(error__contains="by reference").count()
    states = dict(Delivery.objects.values_list("state").annotate(n=Count("id")))
    print(
        f"\nCRASH: {ORDERS} orders, {KILLS} SIGKILLs, {requests_during_kills} requests received "
        f"while killing, {kills_between_send_and_record} kills landed after 35up created an "
        f"order and before the hub recorded it; afterwards deliveries {states}, "
        f"{found_by_reference} placements found at 35up by reference instead of resent, "
        f"35up orders {len(per_reference)}, "
        f"duplicates {duplicates}, lost {ORDERS - len(per_reference)}"
    )
    assert kills_between_send_and_record >= KILLS // 2, "too few kills between send and record"
    assert not unfinished().exists()
    assert set(states) == {DeliveryState.SUCCEEDED}
    assert duplicates == 0
    assert len(per_reference) == ORDERS
    assert SandboxShipupOrder.objects.count() == ORDERS
    assert not Order.objects.filter(thirtyfiveup_id__isnull=True).exists()
    for order in Order.objects.all():
        assert SandboxOrder.objects.get(reference=order.reference).public_id == (
            order.thirtyfiveup_id
        )
