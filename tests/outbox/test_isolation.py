"""One bad item never stops the rest: an exception while building, sending or recording one
delivery, one member of a batch or one synced record stays on that row (failed, with the
message), and the loop, the batch's other members and the other orders go on."""

from decimal import Decimal
from unittest import mock

import pytest
from django.db import IntegrityError

from core.actors import Actor
from integrations import services as provider_services
from integrations.operations import PUSH_ORDER
from integrations.providers import Provider
from integrations.services import write_delivery
from integrations.sync import sync_from_35up
from orders.models import OrderLine, OrderStatus
from outbox import registry, services
from outbox.models import Delivery, DeliveryState
from sandbox.models import SandboxRequest, SandboxSendcloudOrder
from tests.factories import order_in_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("staff_groups")]

# 999,999,999 x 99,999.99 = 99,999,989,900,000.01: a JSON number (a double) cannot carry it.
HUGE_QUANTITY = 999_999_999
HUGE_PRICE = Decimal("99999.99")


def sendcloud_deliveries(orders):
    return {
        order.reference: services.for_subject(order).get(provider=Provider.SENDCLOUD)
        for order in orders
    }


def approved_orders(count):
    return [order_in_status(OrderStatus.APPROVED) for _ in range(count)]


def test_an_amount_no_json_number_can_carry_fails_alone(providers_at_sandbox):
    assert Decimal(repr(float(HUGE_PRICE * HUGE_QUANTITY))) != HUGE_PRICE * HUGE_QUANTITY
    orders = approved_orders(4)
    bad = orders[1]
    OrderLine.objects.filter(order=bad).update(quantity=HUGE_QUANTITY, unit_price=HUGE_PRICE)
    write_delivery(bad, Provider.SHIPUP, PUSH_ORDER, Actor.system("test"))

    services.drain()  # must not raise

    deliveries = sendcloud_deliveries(orders)
    for reference, delivery in deliveries.items():
        delivery.refresh_from_db()
        if reference == bad.reference:
            assert delivery.state == DeliveryState.FAILED
            assert "cannot be sent as a JSON number" in delivery.error
        else:
            assert delivery.state == DeliveryState.SUCCEEDED, delivery.error
    # The loop went on to the next provider (Shipup takes prices as strings: no problem there).
    shipup = services.for_subject(bad).get(provider=Provider.SHIPUP)
    assert shipup.state == DeliveryState.SUCCEEDED, shipup.error
    assert not Delivery.objects.filter(state=DeliveryState.SENDING).exists()
    # The three good orders went in one call; the bad one never reached Sendcloud.
    assert SandboxRequest.objects.filter(provider="sendcloud", method="POST").count() == 1
    assert set(SandboxSendcloudOrder.objects.values_list("order_number", flat=True)) == {
        order.reference for order in orders if order != bad
    }


def test_a_failure_while_recording_one_batch_member_fails_only_that_member(providers_at_sandbox):
    orders = approved_orders(3)
    unlucky = orders[2]
    record_success = provider_services.record_success

    def refuse_one(order, *args, **kwargs):
        if order.pk == unlucky.pk:
            raise IntegrityError("simulated refusal of the link row")
        return record_success(order, *args, **kwargs)

    with mock.patch.object(provider_services, "record_success", refuse_one):
        services.drain(provider=Provider.SENDCLOUD)

    deliveries = sendcloud_deliveries(orders)
    states = {reference: d.state for reference, d in deliveries.items()}
    assert states.pop(unlucky.reference) == DeliveryState.FAILED
    assert set(states.values()) == {DeliveryState.SUCCEEDED}
    assert "simulated refusal of the link row" in deliveries[unlucky.reference].error


def test_a_failure_while_recording_a_result_in_the_engine_stays_on_that_row(providers_at_sandbox):
    orders = approved_orders(3)
    deliveries = sendcloud_deliveries(orders)
    unlucky = deliveries[orders[0].reference]
    record_success = services.record_success

    def refuse_one(delivery, *args, **kwargs):
        if delivery.pk == unlucky.pk:
            raise IntegrityError("simulated database refusal")
        return record_success(delivery, *args, **kwargs)

    with mock.patch.object(services, "record_success", refuse_one):
        services.drain(provider=Provider.SENDCLOUD)

    unlucky.refresh_from_db()
    assert unlucky.state == DeliveryState.FAILED
    assert "Recording the result failed" in unlucky.error
    for delivery in deliveries.values():
        if delivery.pk != unlucky.pk:
            delivery.refresh_from_db()
            assert delivery.state == DeliveryState.SUCCEEDED


def test_a_handler_that_crashes_fails_its_batch_and_the_loop_goes_on(providers_at_sandbox):
    orders = approved_orders(2)
    shipup = write_delivery(orders[0], Provider.SHIPUP, PUSH_ORDER, Actor.system("test"))
    spec = registry.spec_for(Provider.SENDCLOUD, PUSH_ORDER)

    def crash(deliveries):
        raise RuntimeError("handler bug")

    with mock.patch.dict(
        registry._specs, {spec.key: registry.OperationSpec(**{**spec.__dict__, "handler": crash})}
    ):
        services.drain()

    for delivery in sendcloud_deliveries(orders).values():
        assert delivery.state == DeliveryState.FAILED
        assert delivery.error == "Internal error: RuntimeError: handler bug"
    shipup.refresh_from_db()
    assert shipup.state == DeliveryState.SUCCEEDED


def test_a_delivery_of_an_unknown_operation_fails_with_the_reason():
    order = order_in_status(OrderStatus.APPROVED)
    stray = Delivery.objects.create(
        provider="sendcloud",
        operation="teleport_order",
        subject_type="orders.order",
        subject_id=order.pk,
        sequence_key=f"sendcloud:orders.order:{order.pk}:stray",
        target=order.reference,
    )
    with mock.patch.object(services, "_send_batch") as send_batch:
        services.drain(provider=Provider.SENDCLOUD)
    stray.refresh_from_db()
    assert stray.state == DeliveryState.FAILED
    assert "No handler is registered for sendcloud teleport_order" in stray.error
    # The Sendcloud push of the same order was still handed to its handler.
    assert send_batch.call_count == 1


def test_one_unreadable_record_never_stops_the_sync_of_the_others(providers_at_sandbox):
    orders = [order_in_status(OrderStatus.PENDING, thirtyfiveup_id=f"35UP-{n}") for n in range(3)]
    Delivery.objects.all().delete()
    broken = orders[1]

    class Record:
        def __init__(self, remote_id):
            self.id, self.status, self.updated_at = remote_id, "approved", None

    def get_order(client, remote_id):
        if remote_id == broken.thirtyfiveup_id:
            raise ValueError("answer we cannot read")
        return Record(remote_id)

    with mock.patch("integrations.thirtyfiveup.client.ThirtyFiveUpClient.get_order", get_order):
        report = sync_from_35up()

    assert report.checked == 3
    assert report.errors == [f"{broken.reference}: answer we cannot read"]
    for order in orders:
        order.refresh_from_db()
    assert [order.status for order in orders] == ["approved", "pending", "approved"]
