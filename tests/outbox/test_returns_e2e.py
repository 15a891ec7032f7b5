"""Returns end to end over HTTP: a delivered order placed at the sandbox's 35up, a return
requested by staff, sent through the outbox exactly once, followed by the sync through 35up's
statuses into the return's history; shop actions sent as PATCH; ambiguous POST /returns settled
from 35up's answer for the order (found, absent and sent once, or left for a person when the
answer carries no returns)."""

import time

import pytest
from django.urls import reverse

from core.actors import Actor
from integrations.operations import REQUEST_RETURN, UPDATE_RETURN_STATUS
from integrations.providers import Provider
from integrations.sync import sync_from_35up
from integrations.thirtyfiveup.client import ThirtyFiveUpClient
from integrations.thirtyfiveup.mapping import return_request_payload
from orders.ingest import ingest_order
from orders.models import Order, OrderStatus
from outbox import services
from outbox.models import Delivery, DeliveryState
from returns import services as returns
from returns.models import Return, ReturnStatus
from sandbox import faults, selectors
from sandbox import thirtyfiveup as sandbox_35up
from sandbox.models import SandboxRequest, SandboxReturn
from tests.factories import UserFactory
from tests.outbox.test_fault_soak import document

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("staff_groups"),
]

NATURAL_PATH = [
    ReturnStatus.AWAITING_RETURN,
    ReturnStatus.CUSTOMER_SHIPPED,
    ReturnStatus.VENDOR_RECEIVED,
    ReturnStatus.CONFIRMED,
    ReturnStatus.AWAITING_REFUND,
    ReturnStatus.REFUNDED,
    ReturnStatus.CLOSED,
]


@pytest.fixture
def hub(providers_at_sandbox, settings):
    """Only 35up hears about orders and returns here: the other providers have their own tests."""
    settings.TRIGGER_SHIPUP = False
    settings.TRIGGER_SENDCLOUD = False
    settings.TRIGGER_REEVOO_ON = ""
    return providers_at_sandbox


@pytest.fixture
def support_user(hub):
    return UserFactory(groups=["support"])


@pytest.fixture
def staff(support_user):
    return Actor.staff(support_user)


def delivered_order(number, *, quantity=1):
    """An order placed at the sandbox's 35up through the outbox, delivered there and synced:
    its lines carry 35up's item ids."""
    body = document(number)
    body["lines"][0]["quantity"] = quantity
    order = ingest_order(body, actor=Actor.system("t")).order
    services.drain()
    order.refresh_from_db()
    assert order.thirtyfiveup_id, services.for_subject(order).values("state", "error")
    sandbox_35up.advance_order(order.thirtyfiveup_id, "delivered")
    sync_from_35up()
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert all(line.thirtyfiveup_item_id for line in order.lines.all())
    return order


def request_in_admin(client, order, quantity=1):
    """Staff's "Request a return" on the order page: the form, posted to the admin."""
    line = order.lines.get()
    return client.post(
        reverse("admin:returns_return_request", args=[order.pk]),
        {"reason": "Too small", f"quantity_{line.pk}": str(quantity)},
    )


def request_return(order, staff, quantity=1):
    """What the order page's "Request a return" asks of the returns service."""
    line = order.lines.get()
    return returns.request_return(
        order_id=order.pk, lines=[(line.pk, quantity)], reason="Too small", actor=staff
    )


def return_posts():
    return selectors.received(Provider.THIRTYFIVEUP, method="POST", path_contains="/returns")


def sandbox_answered(timeout=5.0):
    """Wait for requests the sandbox still holds (a timeout or drop fault answers after the hub
    gave up): only then is what it recorded about them complete."""
    deadline = time.monotonic() + timeout
    while SandboxRequest.objects.filter(response_status__isnull=True).exists():
        assert time.monotonic() < deadline, "the sandbox never answered"
        time.sleep(0.05)


def delivery_of(return_request, operation=REQUEST_RETURN):
    return services.for_subject(return_request).get(operation=operation)


def history(return_request):
    return [
        (change.from_status, change.to_status, change.source)
        for change in return_request.history.order_by("created_at", "id")
    ]


def test_a_return_requested_in_the_admin_reaches_35up_once_and_the_sync_follows_it_home(
    client, support_user
):
    order = delivered_order(1)
    line = order.lines.get()
    client.force_login(support_user)

    response = request_in_admin(client, order)
    # A second click on the same form: the line has nothing left to return.
    again = request_in_admin(client, order)
    services.drain()
    services.drain()

    return_request = Return.objects.get(order=order)
    assert response.status_code == 302
    assert response.url == reverse("admin:returns_return_change", args=[return_request.pk])
    assert again.status_code == 200
    assert "1 is more than the 0 that can still be returned" in again.content.decode()
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.CREATED
    remote = SandboxReturn.objects.get()
    assert return_request.thirtyfiveup_id == remote.public_id
    assert selectors.thirtyfiveup_returns(order.thirtyfiveup_id).count() == 1
    assert return_posts().count() == 1
    assert return_posts().get().body == {
        "orderId": order.thirtyfiveup_id,
        "items": [{"itemId": line.thirtyfiveup_item_id, "sku": line.sku, "quantity": 1}],
    }
    assert delivery_of(return_request).state == DeliveryState.SUCCEEDED

    # 35up moves the return on, one step at a time; each sync brings one step home.
    for status in NATURAL_PATH:
        sandbox_35up.advance_return(remote.public_id)
        report = sync_from_35up()
        return_request.refresh_from_db()
        assert return_request.status == status, report.summary()
        assert report.return_outcomes == {"applied": 1}
        last = return_request.history.order_by("created_at", "id").last()
        assert (last.to_status, last.source, last.actor_label) == (status, "provider", "35up sync")

    assert return_request.requested_by == support_user
    assert history(return_request) == [
        ("new", "new", "staff"),
        ("new", "created", "provider"),
        *zip(["created", *NATURAL_PATH[:-1]], NATURAL_PATH, ["provider"] * 7, strict=True),
    ]
    assert not return_request.status_unexpected
    # A closed return is final: the sync reads it no more; nothing else was ever sent.
    assert sync_from_35up().returns_checked == 0
    assert return_posts().count() == 1
    assert SandboxReturn.objects.count() == 1


def test_cancelling_a_return_goes_out_as_a_patch_and_35up_agrees(staff):
    order = delivered_order(2)
    return_request = request_return(order, staff)
    services.drain()
    return_request.refresh_from_db()
    sandbox_35up.advance_return(return_request.thirtyfiveup_id)
    sync_from_35up()

    returns.request_transition(
        return_id=return_request.pk, action="cancel", actor=staff, message="Customer keeps it"
    )
    services.drain()

    return_request.refresh_from_db()
    remote = SandboxReturn.objects.get(public_id=return_request.thirtyfiveup_id)
    assert (return_request.status, remote.status) == ("cancelled", "cancelled")
    patches = selectors.received(Provider.THIRTYFIVEUP, method="PATCH")
    assert [(p.path.rsplit("/", 1)[-1], p.body, p.response_status) for p in patches] == [
        (remote.public_id, {"status": "cancelled"}, 200)
    ]
    assert delivery_of(return_request, UPDATE_RETURN_STATUS).state == DeliveryState.SUCCEEDED
    assert [(c.from_status, c.to_status, c.source) for c in remote.history.all()][-1] == (
        "awaiting_return",
        "cancelled",
        "patch",
    )
    assert history(return_request)[-1] == ("awaiting_return", "cancelled", "staff")
    # 35up's view is the hub's: the next sync changes nothing.
    assert sync_from_35up().return_outcomes == {"unchanged": 1}
    # The cancelled return gave its item back, at 35up and in the hub alike.
    again = request_return(order, staff)
    services.drain()
    again.refresh_from_db()
    assert again.status == ReturnStatus.CREATED
    assert SandboxReturn.objects.count() == 2


def test_the_shop_receives_the_return_and_ships_it_on_and_35up_agrees(staff):
    order = delivered_order(3)
    return_request = request_return(order, staff)
    services.drain()
    return_request.refresh_from_db()
    remote_id = return_request.thirtyfiveup_id
    sandbox_35up.advance_return(remote_id)
    sync_from_35up()

    returns.request_transition(
        return_id=return_request.pk, action="mark_seller_received", actor=staff
    )
    returns.request_transition(
        return_id=return_request.pk, action="mark_seller_shipped", actor=staff, message="DHL 1"
    )
    services.drain()
    services.drain()

    return_request.refresh_from_db()
    remote = SandboxReturn.objects.get(public_id=remote_id)
    assert (return_request.status, remote.status) == ("seller_shipped", "seller_shipped")
    patches = selectors.received(Provider.THIRTYFIVEUP, method="PATCH")
    assert [(p.body, p.response_status) for p in patches] == [
        ({"status": "seller_received"}, 200),
        ({"status": "seller_shipped"}, 200),
    ]
    assert [c.source for c in remote.history.all()] == ["requested", "control", "patch", "patch"]
    assert set(services.for_subject(return_request).values_list("state", flat=True)) == {
        DeliveryState.SUCCEEDED
    }

    # The vendor receives it at 35up; the sync brings that home after the shop's own steps.
    sandbox_35up.advance_return(remote_id)
    assert sync_from_35up().return_outcomes == {"applied": 1}
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.VENDOR_RECEIVED
    assert [row[1:] for row in history(return_request)[-3:]] == [
        ("seller_received", "staff"),
        ("seller_shipped", "staff"),
        ("vendor_received", "provider"),
    ]


def test_a_shop_action_35up_refuses_fails_and_the_sync_brings_its_status_home(staff):
    order = delivered_order(11)
    return_request = request_return(order, staff)
    services.drain()
    return_request.refresh_from_db()
    remote_id = return_request.thirtyfiveup_id
    sandbox_35up.advance_return(remote_id)
    sync_from_35up()
    # The customer ships the items before the shop's cancel reaches 35up.
    sandbox_35up.advance_return(remote_id)

    returns.request_transition(return_id=return_request.pk, action="cancel", actor=staff)
    services.drain()

    delivery = delivery_of(return_request, UPDATE_RETURN_STATUS)
    assert delivery.state == DeliveryState.FAILED
    assert "a return that is customer_shipped cannot be cancelled" in delivery.error
    assert SandboxReturn.objects.get(public_id=remote_id).status == "customer_shipped"
    # 35up is the truth: the sync applies its status, marked as a move outside the graph.
    assert sync_from_35up().return_outcomes == {"unexpected": 1}
    return_request.refresh_from_db()
    assert (return_request.status, return_request.status_unexpected) == (
        ReturnStatus.CUSTOMER_SHIPPED,
        True,
    )
    assert history(return_request)[-2:] == [
        ("awaiting_return", "cancelled", "staff"),
        ("cancelled", "customer_shipped", "provider"),
    ]


def lost_answer(return_request):
    """Simulates a POST /returns whose answer never came: the request reached 35up (the real
    POST, through the client, over HTTP) and the hub's delivery is ambiguous."""
    lines = [(line.order_line, line.quantity) for line in return_request.lines.all()]
    payload = return_request_payload(return_request.order.thirtyfiveup_id, lines)
    created = ThirtyFiveUpClient.from_settings().request_return(payload)
    delivery = delivery_of(return_request)
    Delivery.objects.filter(pk=delivery.pk).update(
        state=DeliveryState.AMBIGUOUS, attempts=1, may_have_reached=True
    )
    return created.id


def test_an_ambiguous_request_is_found_at_35up_by_its_items_and_linked(staff):
    order = delivered_order(4, quantity=2)
    # An earlier return of the same item, already known to the hub, must not be taken for ours.
    earlier = request_return(order, staff)
    services.drain()
    earlier.refresh_from_db()
    return_request = request_return(order, staff)
    remote_id = lost_answer(return_request)

    report = sync_from_35up()

    assert (report.ambiguous_found, report.ambiguous_resent, report.ambiguous_for_a_person) == (
        1,
        0,
        0,
    )
    return_request.refresh_from_db()
    assert return_request.thirtyfiveup_id == remote_id != earlier.thirtyfiveup_id
    assert return_request.status == ReturnStatus.CREATED
    assert history(return_request)[-1] == ("new", "created", "provider")
    delivery = delivery_of(return_request)
    assert delivery.state == DeliveryState.SUCCEEDED
    assert "Settled by sync" in delivery.error
    services.drain()
    assert return_posts().count() == 2
    assert SandboxReturn.objects.filter(order__public_id=order.thirtyfiveup_id).count() == 2


def test_a_dropped_answer_makes_the_request_ambiguous_and_the_sync_finds_it(staff):
    order = delivered_order(5)
    return_request = request_return(order, staff)
    # 35up takes the return and commits it, but its answer comes after the hub gave up.
    faults.configure_faults(
        queue=[{"fault": "drop", "provider": "35up", "method": "POST"}], timeout_seconds=0.6
    )
    services.drain()
    assert delivery_of(return_request).state == DeliveryState.AMBIGUOUS
    return_request.refresh_from_db()
    assert return_request.thirtyfiveup_id is None
    sandbox_answered()

    report = sync_from_35up()
    services.drain()

    assert report.ambiguous_found == 1
    return_request.refresh_from_db()
    remote = SandboxReturn.objects.get()
    assert return_request.thirtyfiveup_id == remote.public_id
    assert return_request.status == ReturnStatus.CREATED
    assert return_posts().count() == 1
    assert delivery_of(return_request).state == DeliveryState.SUCCEEDED


def test_without_returns_in_35ups_answer_an_ambiguous_request_waits_for_a_person(staff):
    order = delivered_order(6)
    return_request = request_return(order, staff)
    lost_answer(return_request)
    faults.configure_faults(omit_order_returns=True)

    report = sync_from_35up()
    services.drain()

    assert (report.ambiguous_found, report.ambiguous_resent, report.ambiguous_for_a_person) == (
        0,
        0,
        1,
    )
    delivery = delivery_of(return_request)
    assert delivery.state == DeliveryState.AMBIGUOUS
    assert f"lists no returns, so the hub cannot tell whether return {return_request.pk}" in (
        delivery.error
    )
    assert "check at 35up, then send it again saying so, or give it up" in delivery.error
    return_request.refresh_from_db()
    assert (return_request.status, return_request.thirtyfiveup_id) == (ReturnStatus.NEW, None)
    # Nothing was sent again: 35up still holds the one return the lost request created.
    assert return_posts().count() == 1
    assert SandboxReturn.objects.count() == 1
    # The next sync decides no differently.
    assert sync_from_35up().ambiguous_for_a_person == 1


def test_a_request_35up_lists_without_ours_is_queued_again_and_sent_once(staff):
    order = delivered_order(7, quantity=2)
    earlier = request_return(order, staff)
    services.drain()
    earlier.refresh_from_db()
    return_request = request_return(order, staff)
    # The POST never reaches 35up's application (a gateway gives up), and the hub's read
    # timeout comes first: the outcome is unknown to the hub.
    faults.configure_faults(
        queue=[{"fault": "timeout", "provider": "35up", "method": "POST"}], timeout_seconds=0.6
    )
    services.drain()
    assert delivery_of(return_request).state == DeliveryState.AMBIGUOUS
    sandbox_answered()
    assert SandboxReturn.objects.count() == 1

    # 35up lists the order's returns: only the earlier one, with the same items but already
    # the hub's, so ours is absent and is sent again.
    report = sync_from_35up()
    assert (report.ambiguous_found, report.ambiguous_resent) == (0, 1)
    services.drain()

    return_request.refresh_from_db()
    remote = SandboxReturn.objects.exclude(public_id=earlier.thirtyfiveup_id).get()
    assert return_request.thirtyfiveup_id == remote.public_id
    assert return_request.status == ReturnStatus.CREATED
    assert delivery_of(return_request).state == DeliveryState.SUCCEEDED
    assert [post.fault for post in return_posts()] == ["", "timeout", ""]
    assert SandboxReturn.objects.count() == 2
    assert sync_from_35up().ambiguous_resent == 0
    assert return_posts().count() == 3


def test_the_order_sync_and_the_return_sync_leave_each_other_alone(staff):
    """Reading the order (now carrying its returns) changes nothing about the order."""
    order = delivered_order(8)
    return_request = request_return(order, staff)
    services.drain()

    report = sync_from_35up()

    assert report.outcomes == {"unchanged": 1}
    assert report.return_outcomes == {"unchanged": 1}
    assert Order.objects.get(pk=order.pk).status == OrderStatus.DELIVERED
    assert Return.objects.get(pk=return_request.pk).status == ReturnStatus.CREATED


# --- edges found while testing (each failed before its fix) ----------------------------------


def test_a_cancelled_return_gives_its_items_back_also_once_35up_closes_it(staff):
    order = delivered_order(9)
    return_request = request_return(order, staff)
    services.drain()
    return_request.refresh_from_db()
    returns.request_transition(return_id=return_request.pk, action="cancel", actor=staff)
    services.drain()
    sandbox_35up.advance_return(return_request.thirtyfiveup_id, "closed")
    sync_from_35up()
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.CLOSED

    # 35up takes this return (the sandbox does: the closed return was cancelled first).
    again = request_return(order, staff)

    services.drain()
    again.refresh_from_db()
    assert again.status == ReturnStatus.CREATED


def test_a_return_35up_refuses_gives_its_items_back(staff):
    order = delivered_order(10)
    # 35up has closed the order meanwhile: it refuses any return of it.
    sandbox_35up.advance_order(order.thirtyfiveup_id, "closed")
    refused = request_return(order, staff)
    services.drain()
    delivery = delivery_of(refused)
    assert delivery.state == DeliveryState.FAILED
    assert "only fulfilled or delivered orders can be returned" in delivery.error
    refused.refresh_from_db()
    assert refused.status == ReturnStatus.NEW
    assert [row.returnable for row in returns.returnable_lines(order)] == [0]

    # Support reads 35up's refusal and cancels the return: 35up never had it, nothing is sent.
    returns.request_transition(return_id=refused.pk, action="cancel", actor=staff)

    assert [row.returnable for row in returns.returnable_lines(order)] == [1]
    assert delivery_of(refused).state == DeliveryState.FAILED
    assert len(return_posts()) == 1


def test_the_sync_reaches_every_open_return_in_turn(staff):
    order = delivered_order(12, quantity=2)
    resting = request_return(order, staff)
    services.drain()
    moving = request_return(order, staff)
    services.drain()
    moving.refresh_from_db()
    sandbox_35up.advance_return(moving.thirtyfiveup_id)

    for _ in range(3):
        sync_from_35up(limit=1)

    moving.refresh_from_db()
    assert Return.objects.get(pk=resting.pk).status == ReturnStatus.CREATED
    assert moving.status == ReturnStatus.AWAITING_RETURN


def test_a_request_answered_429_is_sent_again_without_returns_in_35ups_answer(staff):
    order = delivered_order(13)
    return_request = request_return(order, staff)
    faults.configure_faults(
        omit_order_returns=True,
        retry_after_seconds=0,
        queue=[{"fault": "429", "provider": "35up", "method": "POST"}],
    )

    services.drain()
    services.drain()

    assert delivery_of(return_request).state == DeliveryState.SUCCEEDED
    assert [post.response_status for post in return_posts()] == [429, 201]
    assert SandboxReturn.objects.count() == 1


def test_a_person_who_finds_nothing_at_35up_can_send_the_return_again(staff):
    order = delivered_order(14)
    return_request = request_return(order, staff)
    faults.configure_faults(
        omit_order_returns=True,
        timeout_seconds=0.6,
        queue=[{"fault": "timeout", "provider": "35up", "method": "POST"}],
    )
    services.drain()
    sandbox_answered()
    assert sync_from_35up().ambiguous_for_a_person == 1
    delivery = delivery_of(return_request)
    assert "then send it again saying so, or give it up" in delivery.error
    assert SandboxReturn.objects.count() == 0

    # The person checks at 35up, finds nothing, and sends it again saying so.
    services.retry_now(delivery_id=delivery.pk, actor_label="support", checked_absent=True)
    services.drain()

    assert delivery_of(return_request).state == DeliveryState.SUCCEEDED
    assert SandboxReturn.objects.count() == 1
