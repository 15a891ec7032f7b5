"""The outbox engine on its own: claiming, ordering, retries, leases, ambiguous outcomes.

The provider call is replaced by a scripted handler so each rule is checked in isolation; the
end-to-end tests against the sandbox are in test_delivery_e2e.py.
"""

import dataclasses
from datetime import timedelta
from unittest import mock

import pytest
from django.utils import timezone

from integrations.errors import (
    PermanentProviderError,
    ProviderNoAnswer,
    ProviderRateLimited,
    RetryableProviderError,
)
from integrations.operations import PLACE_ORDER, PUSH_ORDER, UPDATE_ORDER_STATUS
from integrations.providers import Provider
from outbox import registry, services
from outbox.models import Delivery, DeliveryState
from outbox.services import Outcome
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _fast_schedule(settings):
    settings.OUTBOX_RETRY_SCHEDULE = [0, 0.001, 0.001]
    settings.OUTBOX_RETRY_JITTER = 0.2


class ScriptedHandler:
    """Answers each delivery with the next scripted result and remembers what was sent.

    A registry handler takes a batch and reports each member: {delivery id: Outcome or error}.
    """

    def __init__(self, *results):
        self.results = list(results)
        self.calls = []

    def __call__(self, deliveries):
        answers = {}
        for delivery in deliveries:
            self.calls.append((delivery.pk, delivery.operation, delivery.attempts))
            answers[delivery.pk] = self.results.pop(0) if self.results else Outcome(status_code=200)
        return answers


def make_delivery(order=None, provider=Provider.THIRTYFIVEUP, operation=PLACE_ORDER):
    order = order or OrderFactory()
    return services.enqueue(
        provider=provider, operation=operation, subject=order, target=order.reference
    )


def send_round(handler):
    """One worker round: claim what is due now, send it, record it. Every registered operation
    keeps its spec (batch size, unsafe to repeat, sequence) with `handler` as its handler."""
    scripted = {spec.key: dataclasses.replace(spec, handler=handler) for spec in registry.specs()}
    with mock.patch.dict(registry._specs, scripted):
        services.send_due()


def due_now(delivery):
    Delivery.objects.filter(pk=delivery.pk).update(next_attempt_at=timezone.now())


def test_success_is_recorded_with_status_and_duration():
    delivery = make_delivery()
    handler = ScriptedHandler(Outcome(status_code=201, response_body='{"id": "42CA346434"}'))
    send_round(handler)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SUCCEEDED
    assert delivery.attempts == 1
    assert delivery.last_status_code == 201
    assert delivery.response_body == '{"id": "42CA346434"}'
    assert delivery.duration_ms is not None
    assert delivery.finished_at is not None


def test_retryable_errors_retry_until_success_and_count_attempts():
    delivery = make_delivery(operation=UPDATE_ORDER_STATUS)
    handler = ScriptedHandler(
        RetryableProviderError("35up", "503 from 35up", status=503),
        ProviderRateLimited("35up", "429 from 35up", status=429),
        Outcome(status_code=200),
    )
    for _ in range(3):
        send_round(handler)
        due_now(delivery)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SUCCEEDED
    assert delivery.attempts == 3
    assert [call[2] for call in handler.calls] == [1, 2, 3]


def test_dead_after_the_last_attempt_of_the_schedule():
    delivery = make_delivery(operation=UPDATE_ORDER_STATUS)
    failure = RetryableProviderError("35up", "502 Bad Gateway", status=502)
    handler = ScriptedHandler(failure, failure, failure, failure)
    for _ in range(4):
        send_round(handler)
        due_now(delivery)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DEAD
    assert delivery.attempts == 3
    assert delivery.error == "35up: 502 Bad Gateway"


def test_permanent_error_fails_at_once_with_the_providers_message():
    delivery = make_delivery()
    handler = ScriptedHandler(
        PermanentProviderError("35up", "400", status=400, details=["items[0].sku: unknown"])
    )
    send_round(handler)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED
    assert delivery.attempts == 1
    assert "items[0].sku: unknown" in delivery.error


def test_retry_after_is_honoured(settings):
    delivery = make_delivery(operation=UPDATE_ORDER_STATUS)
    handler = ScriptedHandler(ProviderRateLimited("35up", "429", status=429, retry_after=120))
    before = timezone.now()
    send_round(handler)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.QUEUED
    assert delivery.next_attempt_at >= before + timedelta(seconds=119)


def test_retry_delay_follows_the_schedule_with_jitter(settings):
    settings.OUTBOX_RETRY_SCHEDULE = [0, 5, 300]
    settings.OUTBOX_RETRY_JITTER = 0.2
    delays = [services.retry_delay(1) for _ in range(200)]
    assert 4.0 <= min(delays) < max(delays) <= 6.0
    assert 240 <= services.retry_delay(2) <= 360
    assert services.retry_delay(3) is None


def test_a_timed_out_post_that_is_unsafe_to_repeat_becomes_ambiguous_not_retried():
    delivery = make_delivery(operation=PLACE_ORDER)
    handler = ScriptedHandler(ProviderNoAnswer("35up", "read timeout"))
    send_round(handler)
    due_now(delivery)
    send_round(handler)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.AMBIGUOUS
    assert len(handler.calls) == 1


def test_a_timed_out_upsert_is_simply_retried():
    delivery = make_delivery(provider=Provider.SHIPUP, operation=PUSH_ORDER)
    handler = ScriptedHandler(ProviderNoAnswer("35up", "read timeout"))
    send_round(handler)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.QUEUED


def test_a_patch_waits_for_the_post_that_creates_the_order():
    order = OrderFactory()
    place = make_delivery(order=order, operation=PLACE_ORDER)
    patch = make_delivery(order=order, operation=UPDATE_ORDER_STATUS)
    handler = ScriptedHandler(RetryableProviderError("35up", "503", status=503))
    send_round(handler)
    assert handler.calls == [(place.pk, PLACE_ORDER, 1)]
    patch.refresh_from_db()
    assert patch.state == DeliveryState.QUEUED and patch.attempts == 0

    due_now(place)
    handler = ScriptedHandler(Outcome(status_code=201), Outcome(status_code=200))
    send_round(handler)
    send_round(handler)
    assert [call[1] for call in handler.calls] == [
        PLACE_ORDER,
        UPDATE_ORDER_STATUS,
    ]


def test_other_orders_are_not_held_back_by_a_failing_one():
    stuck = make_delivery(operation=PLACE_ORDER)
    other = make_delivery(operation=PLACE_ORDER)
    handler = ScriptedHandler(RetryableProviderError("35up", "boom", status=500))
    send_round(handler)
    assert {stuck.pk, other.pk} == {call[0] for call in handler.calls}


def test_an_expired_lease_makes_a_delivery_due_again_unless_an_unsafe_call_went_out():
    safe = make_delivery(provider=Provider.SHIPUP, operation=PUSH_ORDER)
    unsafe_sent = make_delivery(operation=PLACE_ORDER)
    unsafe_unsent = make_delivery(operation=PLACE_ORDER)
    claimed = services.claim(limit=10)
    assert {d.pk for d in claimed} == {safe.pk, unsafe_sent.pk, unsafe_unsent.pk}
    # The worker started two calls, then died: nothing recorded; the leases run out.
    services._start_calls([d for d in claimed if d.pk in (safe.pk, unsafe_sent.pk)])
    Delivery.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert services.expire_leases() == 3
    states = dict(Delivery.objects.values_list("pk", "state"))
    assert states[safe.pk] == DeliveryState.QUEUED
    assert states[unsafe_sent.pk] == DeliveryState.AMBIGUOUS
    assert states[unsafe_unsent.pk] == DeliveryState.QUEUED
    assert "outcome unknown" in Delivery.objects.get(pk=unsafe_sent.pk).error


def test_a_late_worker_cannot_overwrite_a_newer_attempt():
    delivery = make_delivery(provider=Provider.SHIPUP, operation=PUSH_ORDER)
    (stale,) = services.claim(limit=1)
    Delivery.objects.update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    services.expire_leases()
    (fresh,) = services.claim(limit=1)
    services.record_success(fresh, Outcome(status_code=201), 5)
    services.record_failure(stale, PermanentProviderError("shipup", "late"), 5)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.SUCCEEDED
    assert delivery.attempts == 2


def test_claimed_rows_are_not_claimed_twice():
    make_delivery()
    first = services.claim(limit=10)
    second = services.claim(limit=10)
    assert len(first) == 1
    assert second == []


def test_staff_retry_and_give_up():
    delivery = make_delivery(operation=UPDATE_ORDER_STATUS)
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.DEAD)
    assert services.retry_now(delivery_id=delivery.pk, actor_label="anna") == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.QUEUED
    assert "anna" in delivery.error
    assert services.give_up(delivery_id=delivery.pk, actor_label="anna") == 1
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.FAILED
    assert services.retry_now(delivery_id=delivery.pk, actor_label="anna") == 1
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.SUCCEEDED)
    assert services.retry_now(delivery_id=delivery.pk, actor_label="anna") == 0
