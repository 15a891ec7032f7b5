"""Which deliveries each order event writes (DESIGN.md's provider table), and the settings that
turn each automatic trigger off. Deliveries are written in the transaction of the change."""

import pytest

from core.actors import Actor
from integrations.operations import PLACE_ORDER, PUSH_ORDER, SUBMIT_ORDER, UPDATE_ORDER_STATUS
from orders.ingest import ingest_order
from orders.services import add_shipment, apply_reported_status, request_transition
from outbox.models import DeliveryState
from outbox.services import for_subject
from tests.factories import UserFactory
from tests.outbox.test_fault_soak import document

pytestmark = pytest.mark.django_db


def written(order):
    return list(for_subject(order).order_by("id").values_list("provider", "operation", "payload"))


def receive(number=1):
    return ingest_order(document(number), actor=Actor.system("test")).order


def placed(order, status="pending"):
    """As if 35up had answered the placement: the queued deliveries are sent."""
    for_subject(order).update(state=DeliveryState.SUCCEEDED)
    order.__class__.objects.filter(pk=order.pk).update(thirtyfiveup_id=f"ID{order.pk}")
    apply_reported_status(order_id=order.pk, status=status)


def test_a_received_order_is_placed_at_35up_and_sent_to_shipup():
    order = receive()
    assert written(order) == [
        ("35up", PLACE_ORDER, {}),
        ("shipup", PUSH_ORDER, {}),
    ]


def test_approval_is_a_35up_patch_with_its_message_and_sends_the_order_to_sendcloud():
    order = receive()
    placed(order)
    staff = UserFactory(groups=["support"])
    request_transition(
        order_id=order.pk, action="approve", actor=Actor.staff(staff), message="paid"
    )
    assert written(order)[2:] == [
        ("35up", UPDATE_ORDER_STATUS, {"status": "approved", "message": "paid"}),
        ("sendcloud", PUSH_ORDER, {}),
    ]
    assert for_subject(order).latest("id").created_by == staff.username


def test_cancelling_a_new_order_sends_nothing_to_35up():
    order = receive()
    for_subject(order).update(state=DeliveryState.SUCCEEDED)
    request_transition(order_id=order.pk, action="cancel", actor=Actor.system("test"))
    assert [d[:2] for d in written(order)[2:]] == [("shipup", PUSH_ORDER)]


def test_a_shipment_and_a_delivered_report_reach_shipup_sendcloud_and_reevoo():
    order = receive()
    placed(order, "approved")
    for_subject(order).update(state=DeliveryState.SUCCEEDED)
    apply_reported_status(order_id=order.pk, status="fulfilled")
    line = order.lines.get()
    add_shipment(
        order_id=order.pk,
        tracking_number="1Z999",
        lines=[(line.pk, 1)],
        actor=Actor.system("test"),
    )
    apply_reported_status(order_id=order.pk, status="delivered")
    providers = [(p, op) for p, op, _ in written(order)]
    assert ("shipup", PUSH_ORDER) in providers[3:]
    assert ("reevoo", SUBMIT_ORDER) in providers
    assert providers.count(("reevoo", SUBMIT_ORDER)) == 1


def test_a_queued_upsert_takes_later_changes_instead_of_a_second_delivery():
    order = receive()
    placed(order, "approved")
    sendcloud = for_subject(order).filter(provider="sendcloud")
    assert sendcloud.count() == 1
    apply_reported_status(order_id=order.pk, status="processing")
    apply_reported_status(order_id=order.pk, status="fulfilled")
    assert sendcloud.count() == 1
    sendcloud.update(state=DeliveryState.SUCCEEDED)
    apply_reported_status(order_id=order.pk, status="delivered")
    assert sendcloud.count() == 2


@pytest.mark.parametrize(
    ("setting", "value", "missing"),
    [
        ("TRIGGER_35UP_PLACE_ON_INGEST", False, "35up"),
        ("TRIGGER_SHIPUP", False, "shipup"),
        ("SHIPUP_API_KEY", "", "shipup"),
        ("THIRTYFIVEUP_PASSWORD", "", "35up"),
    ],
)
def test_each_trigger_is_off_when_its_setting_or_credentials_say_so(
    settings, setting, value, missing
):
    setattr(settings, setting, value)
    order = receive()
    assert missing not in {provider for provider, _, _ in written(order)}
    assert written(order), "the other provider still gets its delivery"


def test_no_review_request_when_reevoo_trigger_is_off(settings):
    settings.TRIGGER_REEVOO_ON = ""
    order = receive()
    placed(order, "delivered")
    assert "reevoo" not in {provider for provider, _, _ in written(order)}
