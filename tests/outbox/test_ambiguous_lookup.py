"""Ambiguous placements are settled from what 35up lists, never on trust: 35up's documents
promise no filter on GET /orders, so these run with the sandbox's list ignoring the query. Every
record's reference is compared across every page, and an id another order already holds is never
given to a second order: a person decides."""

import pytest

from core.actors import Actor
from integrations.operations import PLACE_ORDER
from integrations.providers import Provider
from integrations.sync import sync_from_35up
from integrations.thirtyfiveup.client import ThirtyFiveUpClient
from integrations.thirtyfiveup.mapping import place_order_payload
from orders.ingest import ingest_order
from orders.models import Order, OrderStatus
from outbox import services
from outbox.models import Delivery, DeliveryState
from sandbox import faults
from sandbox import thirtyfiveup as sandbox_35up
from sandbox.models import SandboxOrder
from tests.outbox.test_fault_soak import document

pytestmark = pytest.mark.django_db(transaction=True)

STRANGERS = 120  # more than one page of 100: ours is found on the second page


@pytest.fixture
def list_ignores_filters(providers_at_sandbox):
    faults.configure_faults(ignore_list_filters=True)
    return providers_at_sandbox


def placed_at_35up_with_answer_lost(number):
    """An order whose POST /orders reached 35up but whose answer never came back."""
    order = ingest_order(document(number), actor=Actor.system("test")).order
    sandbox_35up.place_order(place_order_payload(order))
    placement = services.for_subject(order).get(provider=Provider.THIRTYFIVEUP)
    # As the engine leaves it when the answer is lost: sent once, may have reached 35up.
    placement.state = DeliveryState.AMBIGUOUS
    placement.attempts = 1
    placement.may_have_reached = True
    placement.save()
    return order, placement


def strangers_at_35up(count):
    """Orders 35up holds for references the hub has never seen, listed before ours."""
    template = place_order_payload(ingest_order(document(9000), actor=Actor.system("t")).order)
    Order.objects.filter(reference="SOAK-9000").delete()
    for number in range(count):
        sandbox_35up.place_order({**template, "reference": f"STRANGER-{number}"})


def test_the_list_really_ignores_the_reference(list_ignores_filters):
    strangers_at_35up(3)
    records = ThirtyFiveUpClient.from_settings().list_orders(reference="STRANGER-2")
    assert [record.reference for record in records] == ["STRANGER-0", "STRANGER-1", "STRANGER-2"]


def test_found_on_a_later_page_by_its_own_reference(list_ignores_filters):
    strangers_at_35up(STRANGERS)
    order, placement = placed_at_35up_with_answer_lost(1)

    report = sync_from_35up()

    placement.refresh_from_db()
    order.refresh_from_db()
    assert (report.ambiguous_found, report.errors) == (1, [])
    assert placement.state == DeliveryState.SUCCEEDED
    assert order.thirtyfiveup_id == SandboxOrder.objects.get(reference=order.reference).public_id
    # 35up's first status is applied too: the order does not stay `new` (never synced).
    assert order.status == OrderStatus.PENDING
    assert SandboxOrder.objects.filter(reference=order.reference).count() == 1


def test_absent_is_sent_again_and_never_linked_to_a_stranger(list_ignores_filters):
    strangers_at_35up(5)
    order = ingest_order(document(2), actor=Actor.system("test")).order
    placement = services.for_subject(order).get(provider=Provider.THIRTYFIVEUP)
    Delivery.objects.filter(pk=placement.pk).update(
        state=DeliveryState.AMBIGUOUS, attempts=1, may_have_reached=True
    )

    report = sync_from_35up()

    placement.refresh_from_db()
    order.refresh_from_db()
    assert (report.ambiguous_resent, report.errors) == (1, [])
    assert placement.state == DeliveryState.QUEUED
    assert order.thirtyfiveup_id is None
    services.drain(provider=Provider.THIRTYFIVEUP)
    order.refresh_from_db()
    assert order.thirtyfiveup_id == SandboxOrder.objects.get(reference=order.reference).public_id


def test_an_id_another_order_holds_is_left_for_a_person(list_ignores_filters):
    order, placement = placed_at_35up_with_answer_lost(3)
    theirs = SandboxOrder.objects.get(reference=order.reference).public_id
    other = ingest_order(document(4), actor=Actor.system("test")).order
    Order.objects.filter(pk=other.pk).update(thirtyfiveup_id=theirs)

    report = sync_from_35up()  # must not raise

    placement.refresh_from_db()
    order.refresh_from_db()
    assert report.ambiguous_for_a_person == 1
    assert placement.state == DeliveryState.AMBIGUOUS
    assert f"already links it to order {other.reference}" in placement.error
    assert order.thirtyfiveup_id is None


def test_a_retried_placement_looks_before_it_sends(list_ignores_filters):
    strangers_at_35up(STRANGERS)
    order, placement = placed_at_35up_with_answer_lost(5)
    # A person (or the crash rule) queued it again without settling it first.
    services.retry_now(delivery_id=placement.pk, actor_label="test")

    services.drain(provider=Provider.THIRTYFIVEUP)

    placement.refresh_from_db()
    order.refresh_from_db()
    assert placement.state == DeliveryState.SUCCEEDED
    assert "by reference; not sent again" in placement.error
    assert SandboxOrder.objects.filter(reference=order.reference).count() == 1
    assert order.thirtyfiveup_id == SandboxOrder.objects.get(reference=order.reference).public_id
    assert placement.operation == PLACE_ORDER
    assert order.status == OrderStatus.PENDING
