"""The support desk a person lives in (issue 10): what needs a person is counted, filtered and
shown until acknowledged; deliveries say what happened; the list, the actions, the notes, the
CSV and the error pages as a support person meets them."""

import re
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.actors import Actor
from integrations.errors import (
    PermanentProviderError,
    ProviderValidationError,
    RetryableProviderError,
)
from integrations.operations import UPDATE_ORDER_STATUS
from orders.models import Order, OrderNote, OrderStatus
from orders.services import apply_reported_status, request_transition
from outbox import services as outbox
from outbox.models import Delivery, DeliveryFailure, DeliveryState
from tests.factories import (
    DeliveryFactory,
    OrderFactory,
    OrderLineFactory,
    UserFactory,
    order_in_status,
)

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]
INDEX_URL = reverse("admin:index")
CHANGELIST_URL = reverse("admin:orders_order_changelist")
DELIVERIES_URL = reverse("admin:outbox_delivery_changelist")


def change_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def transition_url(order, action):
    return reverse("admin:orders_order_transition", args=[order.pk, action])


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def text_of(html):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def list_row(page, reference):
    """The order list's row of `reference`."""
    results = page[page.index('id="result_list"') :]
    return re.search(rf"<tr>(?:(?!<tr>).)*?{reference}.*?</tr>", results, re.S).group(0)


def index_count(page, row_id):
    """The number on one row of the index's "Needs a person" box."""
    row = re.search(rf'<tr id="{row_id}">(.*?)</tr>', page, re.S)
    assert row, row_id
    return text_of(row.group(1)).rsplit(" ", 1)[1]


@pytest.fixture
def support_user():
    return UserFactory(username="sam", groups=["support"])


@pytest.fixture
def support_client(client, support_user):
    client.force_login(support_user)
    return client


def fail_delivery(delivery, error):
    """Send `delivery` through the engine and let the handler's answer be `error`. The calls
    queued before it in its sequence went out first."""
    Delivery.objects.filter(sequence_key=delivery.sequence_key).exclude(pk=delivery.pk).update(
        state=DeliveryState.SUCCEEDED
    )
    (claimed,) = outbox.claim(limit=1, ids=[delivery.pk])
    outbox.record_failure(claimed, error, duration_ms=5)
    delivery.refresh_from_db()
    return delivery


def refused_cancellation(order):
    """Support cancels a processing order; 35up answers 400: it is already fulfilled."""
    request_transition(
        order_id=order.pk,
        action="cancel",
        actor=Actor.staff(UserFactory(groups=["support"])),
        message="Reason: The customer asked to cancel.",
    )
    delivery = DeliveryFactory(
        subject=order,
        provider="35up",
        operation=UPDATE_ORDER_STATUS,
        payload={"status": "cancelled", "message": "Reason: The customer asked to cancel."},
    )
    return fail_delivery(
        delivery,
        PermanentProviderError(
            "35up",
            "HTTP 400",
            status=400,
            details=["status: an order that is fulfilled cannot be cancelled"],
        ),
    )


# Needs a person: a refused action


def test_a_refused_action_is_counted_filtered_and_shown_until_acknowledged(support_client):
    order = order_in_status("processing")
    quiet = order_in_status("processing")
    delivery = refused_cancellation(order)
    assert (delivery.state, delivery.failure) == (DeliveryState.FAILED, DeliveryFailure.REFUSED)

    index = support_client.get(INDEX_URL).content.decode()
    assert "Needs a person" in index
    assert index_count(index, "orders-need-a-person") == "1"
    assert index_count(index, "deliveries-refused") == "1"
    listed = support_client.get(CHANGELIST_URL, {"needs_person": "yes"}).content.decode()
    assert order.reference in listed and quiet.reference not in listed

    page = support_client.get(change_url(order)).content.decode()
    banner = re.search(r'<ul class="messagelist needs-a-person".*?</ul>', page, re.S).group(0)
    assert "35up did not cancel this order." in text_of(banner)
    assert "Refused by 35up" in banner
    assert "an order that is fulfilled cannot be cancelled" in banner

    acknowledge_url = reverse(
        "admin:orders_order_acknowledge_delivery", args=[order.pk, delivery.pk]
    )
    response = support_client.post(acknowledge_url)
    assert response.status_code == 302
    assert f"the failure of delivery #{delivery.pk} is acknowledged" in messages_of(response)[0]

    page = support_client.get(change_url(order)).content.decode()
    assert "35up did not cancel this order." not in page
    note = OrderNote.objects.get(order=order)
    assert note.author.username == "sam"
    assert "an order that is fulfilled cannot be cancelled" in note.body
    timeline = page[page.index('id="status-history"') :]
    assert "Acknowledged: delivery" in timeline
    assert "Refused by 35up (acknowledged by sam)" in text_of(timeline)
    index = support_client.get(INDEX_URL).content.decode()
    assert index_count(index, "orders-need-a-person") == "0"
    assert index_count(index, "deliveries-refused") == "0"
    # Acknowledging twice changes nothing and says so.
    again = support_client.post(acknowledge_url)
    assert "not a failure waiting for a person" in messages_of(again)[0]
    assert OrderNote.objects.filter(order=order).count() == 1


def test_acknowledging_needs_the_note_permission(support_client):
    order = order_in_status("processing")
    delivery = refused_cancellation(order)
    viewer = UserFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    viewer_client = Client()
    viewer_client.force_login(viewer)

    page = viewer_client.get(change_url(order)).content.decode()
    assert "35up did not cancel this order." in page
    assert 'value="Acknowledge"' not in page
    forged = viewer_client.post(
        reverse("admin:orders_order_acknowledge_delivery", args=[order.pk, delivery.pk])
    )
    assert forged.status_code == 403
    delivery.refresh_from_db()
    assert delivery.settled_at is None


def test_an_unexpected_status_needs_a_person_until_acknowledged(support_client):
    order = order_in_status("delivered")
    apply_reported_status(order_id=order.pk, status="processing")  # backwards: unexpected

    index = support_client.get(INDEX_URL).content.decode()
    assert index_count(index, "orders-need-a-person") == "1"
    listed = support_client.get(CHANGELIST_URL, {"needs_person": "yes"}).content.decode()
    assert order.reference in listed
    assert 'id="unexpected-status"' in support_client.get(change_url(order)).content.decode()

    support_client.post(reverse("admin:orders_order_acknowledge_unexpected", args=[order.pk]))

    order.refresh_from_db()
    assert order.status_unexpected is False
    page = support_client.get(change_url(order)).content.decode()
    assert 'id="unexpected-status"' not in page
    assert "outside its documented graph; checked." in page
    index = support_client.get(INDEX_URL).content.decode()
    assert index_count(index, "orders-need-a-person") == "0"


# Delivery states that say what happened


def test_the_hubs_own_refusal_to_send_is_not_the_providers(support_client):
    order = order_in_status("approved", currency="CAD")
    delivery = fail_delivery(
        DeliveryFactory(subject=order),
        ProviderValidationError(
            "sendcloud", "currency: Sendcloud accepts EUR, GBP, USD only, not CAD."
        ),
    )

    assert delivery.failure == DeliveryFailure.INVALID
    assert delivery.state_label == "Not sent: invalid for Sendcloud"
    index = support_client.get(INDEX_URL).content.decode()
    assert index_count(index, "deliveries-invalid") == "1"
    assert index_count(index, "deliveries-refused") == "0"
    page = support_client.get(change_url(order)).content.decode()
    assert "Not sent: invalid for Sendcloud" in page
    assert "Sendcloud accepts EUR, GBP, USD only, not CAD." in page
    listed = support_client.get(DELIVERIES_URL, {"situation": "invalid"}).content.decode()
    assert "Not sent: invalid for Sendcloud" in listed


def banner_of(page):
    found = re.search(r'<ul class="messagelist needs-a-person".*?</ul>', page, re.S)
    return found.group(0) if found else ""


def test_every_delivery_that_needs_a_person_is_on_the_order_page_banner(support_client):
    order = order_in_status("approved", currency="CAD")
    invalid = fail_delivery(
        DeliveryFactory(subject=order),
        ProviderValidationError(
            "sendcloud", "currency: Sendcloud accepts EUR, GBP, USD only, not CAD."
        ),
    )
    dead = DeliveryFactory(subject=order, provider="shipup", state=DeliveryState.DEAD, attempts=8)

    banner = banner_of(support_client.get(change_url(order)).content.decode())
    assert "Sendcloud: Not sent: invalid for Sendcloud." in text_of(banner)
    assert "Sendcloud accepts EUR, GBP, USD only, not CAD." in banner
    assert f'id="delivery-needs-a-person-{dead.pk}"' in banner
    assert reverse("admin:outbox_delivery_change", args=[dead.pk]) in banner

    response = support_client.post(
        reverse("admin:orders_order_acknowledge_delivery", args=[order.pk, invalid.pk])
    )
    assert f"the failure of delivery #{invalid.pk} is acknowledged" in messages_of(response)[0]
    banner = banner_of(support_client.get(change_url(order)).content.decode())
    assert f'id="delivery-needs-a-person-{invalid.pk}"' not in banner
    assert f'id="delivery-needs-a-person-{dead.pk}"' in banner
    assert "Sendcloud accepts EUR" in OrderNote.objects.get(order=order).body


def test_an_order_with_nothing_waiting_for_a_person_has_no_banner(support_client):
    order = order_in_status("approved")
    DeliveryFactory(subject=order, state=DeliveryState.SUCCEEDED)

    assert banner_of(support_client.get(change_url(order)).content.decode()) == ""


def test_a_delivery_a_person_gave_up_says_who_and_needs_nobody(support_client):
    delivery = DeliveryFactory(state=DeliveryState.DEAD, attempts=8)

    outbox.give_up(delivery_id=delivery.pk, actor_label="sam")

    delivery.refresh_from_db()
    assert delivery.state_label == "Given up by sam"
    index = support_client.get(INDEX_URL).content.decode()
    assert index_count(index, "deliveries-dead") == "0"
    assert index_count(index, "orders-need-a-person") == "0"
    listed = support_client.get(DELIVERIES_URL, {"situation": "given_up"}).content.decode()
    assert "Given up by sam" in listed


def test_a_delivery_waiting_to_retry_says_which_attempt_and_when(support_client):
    delivery = fail_delivery(
        DeliveryFactory(), RetryableProviderError("sendcloud", "HTTP 503", status=503)
    )

    assert delivery.state == DeliveryState.QUEUED
    when = delivery.next_attempt_at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S")
    assert delivery.state_label == f"Retrying (attempt 2, next at {when} UTC)"
    listed = support_client.get(DELIVERIES_URL, {"situation": "retrying"}).content.decode()
    assert f"Retrying (attempt 2, next at {when} UTC)" in listed
    page = support_client.get(
        change_url(Order.objects.get(pk=delivery.subject_id))
    ).content.decode()
    assert "Retrying (attempt 2" in page


def test_a_failed_delivery_can_be_acknowledged_from_the_delivery_list(support_client):
    delivery = fail_delivery(
        DeliveryFactory(), PermanentProviderError("sendcloud", "HTTP 422", status=422)
    )

    support_client.post(
        DELIVERIES_URL, {"action": "acknowledge", "_selected_action": [delivery.pk]}
    )

    delivery.refresh_from_db()
    assert delivery.settled_by == "sam"
    assert delivery.state_label == "Refused by Sendcloud (acknowledged by sam)"


# The list


def test_the_list_shows_order_date_country_and_total_with_currency(support_client):
    order = order_in_status(
        "approved",
        shipping_country="NL",
        shipping_state="",
        currency="EUR",
        ordered_at=datetime(2026, 10, 1, 8, 15, tzinfo=UTC),
    )
    order.lines.update(quantity=2, unit_price="10.50")
    OrderLineFactory(order=order, quantity=1, unit_price="1000.00")

    page = support_client.get(CHANGELIST_URL).content.decode()

    row = text_of(list_row(page, order.reference))
    assert "2026-10-01 08:15" in row
    assert "NL" in row
    assert "1,021.00 EUR" in row
    for header in ["Ordered (UTC)", "Country", "Total"]:
        assert f">{header}<" in page or f">{header}</a>" in page


def test_the_country_filter_lists_the_countries_orders_have(support_client):
    order_in_status("approved", shipping_country="NL", shipping_state="")
    order_in_status("approved", shipping_country="DE", shipping_state="")

    page = support_client.get(CHANGELIST_URL).content.decode()

    assert "shipping_country__exact=NL" in page and "shipping_country__exact=DE" in page
    assert "shipping_country__exact=FR" not in page
    assert page.count("shipping_country__exact=") == 2
    filtered = support_client.get(CHANGELIST_URL, {"shipping_country__exact": "NL"})
    assert filtered.status_code == 200


def test_a_held_order_is_told_from_one_awaiting_approval(support_client):
    held = order_in_status("approved", reference="ORD-HELD")
    awaiting = order_in_status("pending", reference="ORD-AWAITING")
    support_client.post(transition_url(held, "hold"), {"reason": "awaiting_payment", "message": ""})
    held.refresh_from_db()
    assert held.status == OrderStatus.PENDING

    page = support_client.get(CHANGELIST_URL).content.decode()

    def row(reference):
        return text_of(list_row(page, reference))

    assert "Pending (on hold)" in row("ORD-HELD")
    assert "on hold" not in row("ORD-AWAITING")
    assert "Pending (on hold)" in support_client.get(change_url(held)).content.decode()
    assert "on hold" not in support_client.get(change_url(awaiting)).content.decode()


# Reasons


@pytest.mark.parametrize("action", ["cancel", "hold"])
def test_cancel_and_hold_need_a_reason(support_client, action):
    order = order_in_status("approved")

    refused = support_client.post(transition_url(order, action), {"message": "because"})
    order.refresh_from_db()
    assert refused.status_code == 200
    assert order.status == OrderStatus.APPROVED
    assert "This field is required." in refused.content.decode()

    other = support_client.post(transition_url(order, action), {"reason": "other"})
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED
    assert "Say why" in other.content.decode()

    support_client.post(
        transition_url(order, action), {"reason": "customer_asked", "message": "by phone"}
    )
    order.refresh_from_db()
    assert order.status != OrderStatus.APPROVED
    assert order.history.last().message.startswith("Reason: The customer asked to")
    assert order.history.last().message.endswith(". by phone")


def test_bulk_cancel_needs_a_reason(support_client):
    orders = [order_in_status("pending") for _ in range(2)]
    selection = {"action": "cancel_orders", "_selected_action": [o.pk for o in orders]}

    refused = support_client.post(CHANGELIST_URL, {**selection, "confirm": "yes"})
    assert "This field is required." in refused.content.decode()
    assert all(o.history.count() == 1 for o in orders)

    support_client.post(CHANGELIST_URL, {**selection, "confirm": "yes", "reason": "duplicate"})
    for order in orders:
        order.refresh_from_db()
        assert order.status == OrderStatus.CANCELLED
        assert order.history.last().message == "Reason: Duplicate order."


def test_each_action_has_help_that_fits_it(support_client):
    pending = order_in_status("pending")
    approved = order_in_status("approved")

    approve = support_client.get(transition_url(pending, "approve")).content.decode()
    hold = support_client.get(transition_url(approved, "hold")).content.decode()
    cancel = support_client.get(transition_url(approved, "cancel")).content.decode()

    assert "paid by bank transfer" in approve
    assert "paid by bank transfer" not in hold and "paid by bank transfer" not in cancel
    assert "Waiting for payment" in hold and "Suspected fraud" in cancel


# Notes


def test_notes_are_in_the_timeline_and_no_empty_row_shows_a_deleted_user(support_client):
    order = order_in_status("approved")

    page = support_client.get(change_url(order)).content.decode()
    assert "(deleted user)" not in page

    support_client.post(
        change_url(order),
        {
            "notes-TOTAL_FORMS": "1",
            "notes-INITIAL_FORMS": "0",
            "notes-0-body": "Customer called about the colour.",
            **{
                f"{prefix}-{key}": "0"
                for prefix in ("lines", "shipments", "returns")
                for key in ("TOTAL_FORMS", "INITIAL_FORMS")
            },
        },
    )
    page = support_client.get(change_url(order)).content.decode()
    timeline = page[page.index('id="status-history"') :]
    assert "Customer called about the colour." in timeline
    assert "sam" in text_of(
        re.search(r'<tr class="order-history-note">.*?</tr>', timeline, re.S)[0]
    )


def test_saving_without_a_change_does_not_say_the_order_was_changed(support_client):
    order = order_in_status("approved")

    response = support_client.post(
        change_url(order),
        {
            f"{prefix}-{key}": "0"
            for prefix in ("notes", "lines", "shipments", "returns")
            for key in ("TOTAL_FORMS", "INITIAL_FORMS")
        },
    )

    assert response.status_code == 302
    shown = messages_of(response)
    assert not any("changed successfully" in message for message in shown), shown
    assert any("Nothing was saved" in message for message in shown), shown


# Refusals, links, money, the CSV, make run


def test_the_admin_is_not_offered_a_delete_it_would_be_refused():
    admin_client = Client()
    admin_client.force_login(UserFactory(is_superuser=True, username="root"))
    order = order_in_status("approved")

    page = admin_client.get(change_url(order)).content.decode()
    listing = admin_client.get(CHANGELIST_URL).content.decode()

    assert "deletelink" not in page
    assert "delete_selected" not in listing


def test_a_refused_page_is_a_styled_page_that_says_why(support_client):
    viewer = UserFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    viewer_client = Client()
    viewer_client.force_login(viewer)
    order = order_in_status("approved")

    response = viewer_client.post(transition_url(order, "cancel"), {"reason": "fraud"})

    assert response.status_code == 403
    page = response.content.decode()
    assert "admin/css/base.css" in page
    assert "You are not allowed to do this" in page
    assert "You do not have permission to cancel orders." in page


def test_there_is_no_view_site_link(support_client):
    assert "View site" not in support_client.get(INDEX_URL).content.decode()


def test_line_prices_show_their_currency(support_client):
    order = OrderFactory(currency="GBP")
    OrderLineFactory(order=order, quantity=3, unit_price="12.50")

    page = support_client.get(change_url(order)).content.decode()

    assert "12.50 GBP" in page and "37.50 GBP" in page


def test_make_run_prints_the_address_it_serves():
    dry_run = subprocess.run(
        ["make", "-n", "run", "PORT=9123", "HOST=127.0.0.2"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    assert "seed_demo --admin-url http://127.0.0.2:9123/admin/" in dry_run
    assert "runserver 127.0.0.2:9123" in dry_run
    assert ":8000" not in dry_run


def test_the_needs_a_person_count_ignores_old_settled_failures(support_client):
    old = DeliveryFactory(
        state=DeliveryState.FAILED,
        failure=DeliveryFailure.REFUSED,
        settled_by="sam",
        settled_at=timezone.now() - timedelta(days=3),
    )

    index = support_client.get(INDEX_URL).content.decode()

    assert index_count(index, "deliveries-refused") == "0"
    assert Delivery.objects.filter(pk=old.pk).exists()
