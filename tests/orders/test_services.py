"""orders.services beyond single transitions: bulk actions, offered actions, notes, shipments."""

from datetime import UTC, datetime

import pytest

from core.actors import Actor
from core.errors import ActionError, PermissionRefused, TransitionRefused
from orders.models import OrderStatus, Shipment
from orders.services import (
    action_permissions,
    add_note,
    add_shipment,
    available_actions,
    bulk_request_transition,
)
from tests.factories import OrderLineFactory, UserFactory, order_in_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def support_user():
    return UserFactory(groups=["support"])


def test_action_permissions_come_from_the_transitions():
    assert action_permissions() == {
        "approve": "orders.approve_order",
        "hold": "orders.hold_order",
        "cancel": "orders.cancel_order",
    }


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        ("new", ["cancel"]),
        ("pending", ["approve", "cancel"]),
        ("approved", ["hold", "cancel"]),
        ("processing", ["cancel"]),
        ("fulfilled", []),
        ("delivered", []),
        ("pending_cancellation", []),
        ("cancelled", []),
        ("closed", []),
    ],
)
def test_available_actions_are_those_valid_now(status, offered, support_user):
    order = order_in_status(status)

    assert sorted(t.name for t in available_actions(order, support_user)) == sorted(offered)


def test_available_actions_leave_out_what_the_user_may_not_do():
    order = order_in_status("pending")

    assert available_actions(order, UserFactory(is_staff=True)) == []


def test_bulk_action_reports_each_order(support_user):
    pending = order_in_status("pending", reference="BULK-1")
    delivered = order_in_status("delivered", reference="BULK-2")
    also_pending = order_in_status("pending", reference="BULK-3")

    outcomes = bulk_request_transition(
        order_ids=[pending.pk, delivered.pk, also_pending.pk, 999999],
        action="approve",
        actor=Actor.staff(support_user),
        message="paid",
    )

    assert [(o.reference, o.succeeded, o.message) for o in outcomes] == [
        ("BULK-1", True, "BULK-1: Pending -> Approved"),
        ("BULK-2", False, "Order BULK-2 is delivered: it cannot be approved."),
        ("BULK-3", True, "BULK-3: Pending -> Approved"),
        ("999999", False, "Order 999999 does not exist."),
    ]
    pending.refresh_from_db()
    delivered.refresh_from_db()
    assert (pending.status, delivered.status) == (OrderStatus.APPROVED, OrderStatus.DELIVERED)
    assert pending.history.last().message == "paid"


def test_bulk_action_without_permission_refuses_every_order():
    orders = [order_in_status("pending") for _ in range(2)]

    outcomes = bulk_request_transition(
        order_ids=[o.pk for o in orders],
        action="approve",
        actor=Actor.staff(UserFactory(is_staff=True)),
    )

    assert [(o.succeeded, o.message) for o in outcomes] == [
        (False, "You do not have permission to approve orders."),
        (False, "You do not have permission to approve orders."),
    ]


def test_note_is_stored_with_its_author(support_user):
    order = order_in_status("pending")

    note = add_note(order_id=order.pk, author=support_user, body="  Customer called.  ")

    assert (note.order, note.author, note.body) == (order, support_user, "Customer called.")
    assert note.created_at is not None
    assert list(order.notes.all()) == [note]


def test_empty_note_is_refused(support_user):
    order = order_in_status("pending")

    with pytest.raises(ActionError) as refused:
        add_note(order_id=order.pk, author=support_user, body="   ")

    assert refused.value.message == "A note needs some text."
    assert not order.notes.exists()


def test_shipment_records_its_lines(support_user):
    order = order_in_status("processing")
    first = order.lines.get()
    second = OrderLineFactory(order=order, quantity=3)
    shipped_at = datetime(2026, 11, 21, 9, 30, tzinfo=UTC)

    shipment = add_shipment(
        order_id=order.pk,
        tracking_number=" 1Z999AA10123456784 ",
        carrier_code="ups",
        shipped_at=shipped_at,
        lines=[(first.pk, 2), (second.pk, 1)],
        actor=Actor.staff(support_user),
    )

    assert (shipment.tracking_number, shipment.carrier_code, shipment.shipped_at) == (
        "1Z999AA10123456784",
        "ups",
        shipped_at,
    )
    assert sorted((sl.order_line.sku, sl.quantity) for sl in shipment.lines.all()) == sorted(
        [(first.sku, 2), (second.sku, 1)]
    )


def test_shipment_never_ships_more_than_was_ordered(support_user):
    order = order_in_status("fulfilled")
    line = order.lines.get()
    add_shipment(
        order_id=order.pk,
        tracking_number="PARCEL-1",
        lines=[(line.pk, 1)],
        actor=Actor.staff(support_user),
    )

    with pytest.raises(ActionError) as refused:
        add_shipment(
            order_id=order.pk,
            tracking_number="PARCEL-2",
            lines=[(line.pk, 2)],
            actor=Actor.staff(support_user),
        )

    assert refused.value.message == f"{line.sku}: 2 is more than the 1 not yet shipped."
    assert list(Shipment.objects.values_list("tracking_number", flat=True)) == ["PARCEL-1"]


def test_shipment_before_approval_is_refused(support_user):
    order = order_in_status("pending")

    with pytest.raises(TransitionRefused) as refused:
        add_shipment(
            order_id=order.pk,
            tracking_number="PARCEL-1",
            lines=[(order.lines.get().pk, 1)],
            actor=Actor.staff(support_user),
        )

    assert refused.value.message == (
        f"Order {order.reference} is pending: shipments can be added once it is approved."
    )


def test_shipment_needs_the_permission():
    order = order_in_status("approved")

    with pytest.raises(PermissionRefused):
        add_shipment(
            order_id=order.pk,
            tracking_number="PARCEL-1",
            lines=[(order.lines.get().pk, 1)],
            actor=Actor.staff(UserFactory(is_staff=True)),
        )

    assert not Shipment.objects.exists()
