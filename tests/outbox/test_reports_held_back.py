"""35up's report never overwrites a change of ours still on its way to 35up: approve, then hold
within a second, and neither the sync that read 35up's "approved" in between nor the answer to
the approve PATCH puts the order back to approved."""

from unittest import mock

import pytest

from core.actors import Actor
from core.statemachine import ReportOutcome
from integrations.providers import Provider
from integrations.services import place_order_at_35up
from integrations.sync import sync_from_35up
from integrations.thirtyfiveup.client import ThirtyFiveUpClient
from orders.models import OrderStatus
from orders.services import request_transition
from outbox import services
from outbox.models import DeliveryState
from sandbox.models import SandboxOrder
from tests.factories import UserFactory, order_in_status

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("staff_groups")]


@pytest.fixture
def staff():
    return Actor.staff(UserFactory(groups=["support"]))


@pytest.fixture
def placed_order(providers_at_sandbox):
    order = order_in_status(OrderStatus.PENDING)
    place_order_at_35up(order)
    order.refresh_from_db()
    return order


def last_change(order):
    change = order.history.order_by("-id").first()
    return (change.source, change.from_status, change.to_status)


def test_a_hold_made_while_the_sync_reads_35up_is_not_overwritten(placed_order, staff):
    order = placed_order
    request_transition(order_id=order.pk, action="approve", actor=staff, message="paid")
    services.drain(provider=Provider.THIRTYFIVEUP)
    read_from_35up = ThirtyFiveUpClient.get_order

    def hold_while_reading(client, remote_id):
        # The sync has chosen this order and asks 35up; the support person holds it meanwhile.
        answer = read_from_35up(client, remote_id)
        request_transition(order_id=order.pk, action="hold", actor=staff, message="fraud check")
        return answer

    with mock.patch.object(ThirtyFiveUpClient, "get_order", hold_while_reading):
        report = sync_from_35up()

    order.refresh_from_db()
    assert report.outcomes == {ReportOutcome.HELD_BACK: 1}
    assert order.status == OrderStatus.PENDING
    assert last_change(order) == ("staff", "approved", "pending")
    # Once the hold has reached 35up, the next sync agrees with it.
    services.drain(provider=Provider.THIRTYFIVEUP)
    assert SandboxOrder.objects.get(public_id=order.thirtyfiveup_id).status == "pending"
    assert sync_from_35up().outcomes == {ReportOutcome.UNCHANGED: 1}


def test_the_answer_to_an_approve_sent_before_a_hold_does_not_undo_the_hold(placed_order, staff):
    order = placed_order
    request_transition(order_id=order.pk, action="approve", actor=staff, message="paid")
    request_transition(order_id=order.pk, action="hold", actor=staff, message="fraud check")

    services.drain(provider=Provider.THIRTYFIVEUP)

    order.refresh_from_db()
    patches = services.for_subject(order).filter(operation="update_order_status")
    assert [(d.payload["status"], d.state) for d in patches.order_by("id")] == [
        ("approved", DeliveryState.SUCCEEDED),
        ("pending", DeliveryState.SUCCEEDED),
    ]
    assert order.status == OrderStatus.PENDING
    provider_moves = order.history.filter(source="provider").values_list("from_status", "to_status")
    assert ("pending", "approved") not in provider_moves
    assert last_change(order) == ("staff", "approved", "pending")
