"""Requesting a return: the rules, each with the message staff see, and the POST it queues."""

import pytest

from core.actors import Actor
from core.errors import ActionError, PermissionRefused, TransitionRefused
from orders.models import OrderLine
from outbox import services as outbox
from returns.models import Return, ReturnStatus
from returns.services import request_return, request_transition, returnable_lines
from tests.factories import OrderLineFactory, UserFactory
from tests.returns.helpers import return_in_status, returnable_order

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]


@pytest.fixture
def staff():
    return Actor.staff(UserFactory(groups=["support"]))


def ask(order, lines, staff, reason="Too small"):
    return request_return(order_id=order.pk, lines=lines, reason=reason, actor=staff)


def refusal(order, lines, staff, reason="Too small"):
    before = Return.objects.filter(order=order).count()
    with pytest.raises(ActionError) as refused:
        ask(order, lines, staff, reason)
    assert Return.objects.filter(order=order).count() == before
    return refused.value.message


@pytest.mark.parametrize("status", ["fulfilled", "delivered"])
def test_a_return_of_a_fulfilled_or_delivered_order_is_queued_for_35up(status, staff):
    order = returnable_order(status=status)
    line = order.lines.get()

    return_request = ask(order, [(line.pk, 2)], staff)

    assert return_request.status == ReturnStatus.NEW
    assert [
        (r.order_line_id, r.quantity, r.thirtyfiveup_item_id) for r in return_request.lines.all()
    ] == [(line.pk, 2, line.thirtyfiveup_item_id)]
    change = return_request.history.get()
    assert (change.to_status, change.source, change.message) == (
        "new",
        "staff",
        "Return requested: Too small",
    )
    post = outbox.for_subject(return_request).get()
    assert (post.provider, post.operation, post.state) == ("35up", "request_return", "queued")


@pytest.mark.parametrize(
    "status", ["new", "pending", "approved", "processing", "cancelled", "closed"]
)
def test_only_orders_35up_fulfilled_or_delivered(status, staff):
    order = returnable_order(status=status)
    with pytest.raises(TransitionRefused) as refused:
        ask(order, [(order.lines.get().pk, 1)], staff)
    assert refused.value.message.endswith(
        "only orders 35up has fulfilled or delivered can be returned."
    )


def test_lines_belong_to_the_order(staff):
    order, other = returnable_order(), returnable_order()
    stranger = other.lines.get()
    assert refusal(order, [(stranger.pk, 1)], staff) == (
        f"Line {stranger.pk} is not a line of order {order.reference}."
    )


def test_quantity_at_least_one(staff):
    order = returnable_order()
    line = order.lines.get()
    assert refusal(order, [(line.pk, 0)], staff) == f"{line.sku}: quantity must be at least 1."


def test_quantity_at_most_what_is_left(staff):
    order = returnable_order(quantity=3)
    line = order.lines.get()
    ask(order, [(line.pk, 2)], staff)

    assert refusal(order, [(line.pk, 2)], staff) == (
        f"{line.sku}: 2 is more than the 1 that can still be returned (3 ordered, 2 in other "
        "returns)."
    )
    assert ask(order, [(line.pk, 1)], staff).lines.get().quantity == 1


def test_a_line_listed_twice_counts_once_summed(staff):
    order = returnable_order(quantity=3)
    line = order.lines.get()
    assert "4 is more than the 3" in refusal(order, [(line.pk, 2), (line.pk, 2)], staff)
    assert ask(order, [(line.pk, 1), (line.pk, 2)], staff).lines.get().quantity == 3


@pytest.mark.parametrize(
    ("status", "gives_back"),
    [
        (ReturnStatus.CANCELLED, True),
        (ReturnStatus.REJECTED, True),
        (ReturnStatus.EXPIRED, True),
        (ReturnStatus.CREATED, False),
        (ReturnStatus.AWAITING_RETURN, False),
        (ReturnStatus.REFUNDED, False),
        (ReturnStatus.CLOSED, False),
        (ReturnStatus.VOIDED, False),
    ],
)
def test_cancelled_rejected_and_expired_returns_give_their_quantity_back(status, gives_back, staff):
    order = returnable_order(quantity=1)
    return_in_status(status, order=order, quantity=1)
    [row] = returnable_lines(order)
    assert row.returnable == (1 if gives_back else 0)
    if gives_back:
        assert ask(order, [(row.line.pk, 1)], staff).lines.get().quantity == 1
    else:
        assert "more than the 0 that can still be returned" in refusal(
            order, [(row.line.pk, 1)], staff
        )


def test_a_return_35up_never_accepted_can_be_cancelled_and_gives_its_items_back(staff):
    order = returnable_order(quantity=1)
    line = order.lines.get()
    refused_by_35up = ask(order, [(line.pk, 1)], staff)
    assert returnable_lines(order)[0].returnable == 0

    request_transition(return_id=refused_by_35up.pk, action="cancel", actor=staff)

    assert returnable_lines(order)[0].returnable == 1
    assert ask(order, [(line.pk, 1)], staff).lines.get().quantity == 1


def test_the_35up_item_id_must_be_known(staff):
    order = returnable_order()
    unknown = OrderLineFactory(order=order, thirtyfiveup_item_id="")
    message = refusal(order, [(unknown.pk, 1)], staff)
    assert message == f"{unknown.sku}: 35up has not reported the item id of this line yet."
    assert returnable_lines(order)[1].refusal == message.split(": ", 1)[1]


def test_a_reason_is_required_and_bounded(staff):
    order = returnable_order()
    line = order.lines.get()
    assert refusal(order, [(line.pk, 1)], staff, reason="  ") == "A return needs a reason."
    assert refusal(order, [(line.pk, 1)], staff, reason="x" * 2001) == (
        "The reason is longer than 2000 characters."
    )


def test_every_broken_rule_is_said_at_once(staff):
    order = returnable_order(quantity=1)
    line = order.lines.get()
    message = refusal(order, [(line.pk, 5), (999999, 1)], staff, reason="")
    assert message.startswith("A return needs a reason. Line 999999 is not a line of order")
    assert "5 is more than the 1 that can still be returned" in message


def test_requesting_needs_the_permission():
    order = returnable_order()
    with pytest.raises(PermissionRefused):
        ask(order, [(order.lines.get().pk, 1)], Actor.staff(UserFactory()))


def test_an_api_client_with_the_permission_may_request(staff):
    order = returnable_order()
    api = Actor.api(UserFactory(groups=["support"]))
    assert ask(order, [(order.lines.get().pk, 1)], api).history.get().source == "api"
    assert OrderLine.objects.filter(order=order).count() == 1
