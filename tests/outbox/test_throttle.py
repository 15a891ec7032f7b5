"""A delivery held back by the hub's own rate limiter waits for its free slot in the row, not in
a sleeping worker, and the wait is not counted as a failed attempt."""

import time

import pytest
from django.utils import timezone

from core.actors import Actor
from integrations.operations import PUSH_ORDER
from integrations.providers import Provider
from integrations.services import write_delivery
from orders.models import OrderStatus
from outbox import services
from outbox.models import DeliveryState
from sandbox.models import SandboxRequest
from tests.factories import order_in_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("staff_groups")]


def test_a_delivery_without_a_free_slot_is_rescheduled_not_slept_on(providers_at_sandbox, settings):
    settings.REDIS_URL = ""
    settings.PROVIDER_RATE_LIMITS = {"shipup:write": ["2/30"]}
    orders = [order_in_status(OrderStatus.APPROVED) for _ in range(3)]
    deliveries = [
        write_delivery(order, Provider.SHIPUP, PUSH_ORDER, Actor.system("test")) for order in orders
    ]

    started = time.monotonic()
    services.drain(provider=Provider.SHIPUP)
    elapsed = time.monotonic() - started

    for delivery in deliveries:
        delivery.refresh_from_db()
    sent, held = deliveries[:2], deliveries[2]
    assert [d.state for d in sent] == [DeliveryState.SUCCEEDED] * 2
    assert held.state == DeliveryState.QUEUED
    assert held.attempts == 0, "waiting for our own limiter is not an attempt"
    assert "Rate limit 2/30s" in held.error
    # Its turn is the slot the limiter named (the first call leaves the window 30 s later).
    wait = (held.next_attempt_at - timezone.now()).total_seconds()
    assert 25 < wait <= 30
    assert elapsed < 5, "the worker did not sleep for the slot"
    assert SandboxRequest.objects.filter(provider="shipup").count() == 2
    assert services.seconds_until_due(Provider.SHIPUP) == pytest.approx(wait, abs=2)
