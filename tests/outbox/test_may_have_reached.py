"""Before an unsafe operation is sent again, the provider is looked at only when an earlier
attempt may have reached it: a server error or a lost answer may have; a 429, a refused
connection or the hub's own limiter did not. A person who checked can say it is absent."""

import pytest

from core.actors import Actor
from integrations.errors import (
    ProviderNoAnswer,
    ProviderRateLimited,
    ProviderThrottled,
    ProviderUnreachable,
    RetryableProviderError,
)
from integrations.operations import PLACE_ORDER
from integrations.providers import Provider
from integrations.services import write_delivery
from outbox import services
from outbox.models import Delivery, DeliveryState
from sandbox import faults
from sandbox.models import SandboxOrder
from tests.factories import order_in_status
from tests.outbox.conftest import run_worker_until_settled

pytestmark = pytest.mark.django_db


@pytest.fixture
def placement(settings):
    settings.THIRTYFIVEUP_USERNAME, settings.THIRTYFIVEUP_PASSWORD = "seller", "secret"
    settings.OUTBOX_RETRY_SCHEDULE = [0, 0, 0, 0]
    order = order_in_status("new")
    delivery = write_delivery(order, Provider.THIRTYFIVEUP, PLACE_ORDER, Actor.system("t"))
    return delivery


def fail_once(delivery, error):
    [claimed] = services.claim(limit=1, ids=[delivery.pk])
    services.record_failure(claimed, error, 5)
    return Delivery.objects.get(pk=delivery.pk)


@pytest.mark.parametrize(
    ("error", "may_have_reached", "state"),
    [
        (RetryableProviderError("35up", "503", status=503), True, DeliveryState.QUEUED),
        (ProviderNoAnswer("35up", "read timeout"), True, DeliveryState.AMBIGUOUS),
        (ProviderRateLimited("35up", "429", status=429), False, DeliveryState.QUEUED),
        (ProviderUnreachable("35up", "refused"), False, DeliveryState.QUEUED),
        (ProviderThrottled("35up", "no slot", retry_after=1), False, DeliveryState.QUEUED),
    ],
)
def test_what_an_error_says_about_reaching_the_provider(placement, error, may_have_reached, state):
    delivery = fail_once(placement, error)
    assert (delivery.state, delivery.may_have_reached) == (state, may_have_reached)


def test_once_it_may_have_reached_a_later_429_does_not_forget_it(placement):
    fail_once(placement, RetryableProviderError("35up", "503", status=503))
    delivery = fail_once(placement, ProviderRateLimited("35up", "429", status=429))
    assert delivery.may_have_reached


def test_a_person_who_checked_sends_it_again_without_looking(placement):
    fail_once(placement, ProviderNoAnswer("35up", "read timeout"))

    assert services.retry_now(delivery_id=placement.pk, actor_label="ann", checked_absent=True)

    delivery = Delivery.objects.get(pk=placement.pk)
    assert (delivery.state, delivery.may_have_reached) == (DeliveryState.QUEUED, False)
    assert delivery.error == "Retry requested by ann: checked, the provider does not have it."


def test_a_plain_retry_keeps_looking_first(placement):
    fail_once(placement, ProviderNoAnswer("35up", "read timeout"))
    services.retry_now(delivery_id=placement.pk, actor_label="ann")
    assert Delivery.objects.get(pk=placement.pk).may_have_reached


@pytest.mark.django_db(transaction=True)
def test_a_read_refused_after_the_post_still_counts_as_reached(providers_at_sandbox):
    """35up created the order; the read of its item ids got a 429. The POST did reach 35up: the
    next attempt looks by reference instead of creating a second order."""
    order = order_in_status("new")
    delivery = write_delivery(order, Provider.THIRTYFIVEUP, PLACE_ORDER, Actor.system("t"))
    faults.configure_faults(
        retry_after_seconds=0, queue=[{"fault": "429", "provider": "35up", "method": "GET"}]
    )

    run_worker_until_settled(timeout=30)

    delivery.refresh_from_db()
    order.refresh_from_db()
    assert delivery.state == DeliveryState.SUCCEEDED
    assert "Found at 35up" in delivery.error
    assert SandboxOrder.objects.filter(reference=order.reference).count() == 1
    assert order.thirtyfiveup_id == SandboxOrder.objects.get(reference=order.reference).public_id


def test_an_internal_error_counts_as_reached(placement):
    [claimed] = services.claim(limit=1, ids=[placement.pk])
    services._record(claimed, RuntimeError("bug after the call"), 5)
    delivery = Delivery.objects.get(pk=placement.pk)
    assert (delivery.state, delivery.may_have_reached) == (DeliveryState.FAILED, True)
