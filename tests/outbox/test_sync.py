"""Sync from 35up over HTTP: statuses applied through the state machine, orders with an unsent
35up delivery read but their report held back, ambiguous placements settled by looking them up by
reference."""

import io

import pytest
from django.core.management import call_command

from core.actors import Actor
from integrations.operations import PLACE_ORDER, UPDATE_ORDER_STATUS
from integrations.sync import sync_from_35up
from orders.ingest import ingest_order
from orders.models import Order
from outbox import services
from outbox.models import Delivery, DeliveryState
from sandbox import thirtyfiveup as sandbox_35up
from sandbox.models import SandboxOrder
from tests.outbox.test_fault_soak import document

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def placed_orders(providers_at_sandbox, settings):
    settings.TRIGGER_SHIPUP = False
    orders = [ingest_order(document(n), actor=Actor.system("test")).order for n in range(3)]
    services.drain()
    return [Order.objects.get(pk=order.pk) for order in orders]


def test_sync_applies_35up_moves_and_leaves_orders_with_unsent_changes_alone(placed_orders):
    moved, held, untouched = placed_orders
    sandbox_35up.advance_order(moved.thirtyfiveup_id, "approved")
    sandbox_35up.advance_order(held.thirtyfiveup_id, "cancelled")
    # Our own cancel of `held` is still on its way to 35up: 35up's older view must not win.
    services.enqueue(
        provider="35up",
        operation=UPDATE_ORDER_STATUS,
        subject=held,
        target=held.reference,
        payload={"status": "cancelled", "message": ""},
    )
    services.for_subject(held).filter(state=DeliveryState.QUEUED).update(
        next_attempt_at="2100-01-01T00:00:00Z"
    )

    report = sync_from_35up()

    # `held` is read too, but 35up's view of it is held back (not applied).
    assert report.outcomes == {"applied": 1, "unchanged": 1, "held back": 1}
    assert report.held_back == 1
    assert Order.objects.get(pk=moved.pk).status == "approved"
    assert Order.objects.get(pk=moved.pk).history.last().source == "provider"
    assert Order.objects.get(pk=held.pk).status == "pending"
    assert Order.objects.get(pk=untouched.pk).status == "pending"


def test_ambiguous_placements_are_found_by_reference_or_sent_again(providers_at_sandbox):
    found, absent = (ingest_order(document(n), actor=Actor.system("test")).order for n in (7, 8))
    Delivery.objects.exclude(operation=PLACE_ORDER).delete()
    # 35up has the first order (its answer was lost); the second never reached it.
    sandbox_35up.place_order(
        {
            "reference": found.reference,
            "customer": {"firstName": "Ada", "lastName": "Soak7", "email": "a@x.example"},
            "shippingAddress": {
                "street": "Stadhuisplein",
                "streetNumber": "7",
                "city": "Oss",
                "postcode": "5341AB",
                "country": "NL",
            },
            "items": [{"sku": "caseable/SOAK-1", "qty": 1}],
        }
    )
    Delivery.objects.update(state=DeliveryState.AMBIGUOUS, attempts=1)

    out = io.StringIO()
    call_command("sync_providers", stdout=out)

    assert "ambiguous requests: 1 found at 35up, 1 queued to send again" in out.getvalue()
    found_delivery = services.for_subject(found).get()
    assert found_delivery.state == DeliveryState.SUCCEEDED
    assert Order.objects.get(pk=found.pk).thirtyfiveup_id == (
        SandboxOrder.objects.get(reference=found.reference).public_id
    )
    assert services.for_subject(absent).get().state == DeliveryState.QUEUED
    services.drain()
    assert SandboxOrder.objects.filter(reference=absent.reference).count() == 1
    assert SandboxOrder.objects.filter(reference=found.reference).count() == 1
