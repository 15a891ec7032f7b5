"""The order page's provider side: sync panel, deliveries in the timeline, push buttons and the
bulk push."""

import re
from datetime import UTC, datetime, timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.actors import Actor
from core.errors import ActionError, PermissionRefused
from integrations import operations
from integrations.models import ProviderLink
from integrations.services import push_order_to_provider
from orders.models import Order
from orders.services import apply_reported_status
from outbox.models import Delivery, DeliveryState
from outbox.services import for_subject
from tests.factories import DeliveryFactory, OrderFactory, UserFactory, order_in_status

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:orders_order_changelist")
DELIVERY_CHANGELIST_URL = reverse("admin:outbox_delivery_changelist")
CREDENTIALS = {
    "35up": {"THIRTYFIVEUP_USERNAME": "seller", "THIRTYFIVEUP_PASSWORD": "seller-pass"},
    "sendcloud": {
        "SENDCLOUD_PUBLIC_KEY": "public",
        "SENDCLOUD_SECRET_KEY": "secret",
        "SENDCLOUD_INTEGRATION_ID": 7,
    },
    "shipup": {"SHIPUP_API_KEY": "k"},
    "reevoo": {"REEVOO_API_KEY": "key", "REEVOO_API_SECRET": "secret", "REEVOO_TRKREF": "SHOP"},
}
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_provider_credentials(settings):
    """Every provider disabled, whatever the settings module gives: each test enables its own."""
    for credentials in CREDENTIALS.values():
        for name in credentials:
            setattr(settings, name, "")


@pytest.fixture
def enable(settings):
    def enable(*providers):
        for provider in providers:
            for name, value in CREDENTIALS[provider].items():
                setattr(settings, name, value)

    return enable


@pytest.fixture
def support_user():
    return UserFactory(groups=["support"])


@pytest.fixture
def support_client(client, support_user):
    client.force_login(support_user)
    return client


@pytest.fixture
def viewer_client():
    """Staff who may look at orders and deliveries but not send orders to providers."""
    viewer = UserFactory()
    viewer.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_order", "view_delivery"])
    )
    viewer_client = Client()
    viewer_client.force_login(viewer)
    return viewer_client


def change_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def push_url(order, provider):
    return reverse("admin:orders_order_push", args=[order.pk, provider])


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


def page_of(client, order):
    response = client.get(change_url(order))
    assert response.status_code == 200
    return response.content.decode()


def sync_box_html(page, provider):
    box = re.search(rf'<section [^>]*id="sync-{provider}">(.*?)</section>', page, re.S)
    assert box, f"no sync box for {provider}"
    return box.group(1)


def sync_box(page, provider):
    """The text of one provider's box in the sync panel, tags stripped, spaces collapsed."""
    return text_of(sync_box_html(page, provider))


def text_of(html):
    return " ".join(re.sub(r"<[^>]+>", " ", html).split())


def timeline_row(page, delivery):
    rows = re.findall(r"<tr[^>]*>.*?</tr>", page, re.S)
    return next(row for row in rows if f"Delivery #{delivery.pk}<" in row)


# The sync panel


def test_panel_shows_each_provider_enabled_or_the_settings_it_misses(support_client, settings):
    settings.SHIPUP_API_KEY = "k"
    settings.REEVOO_API_KEY = "key"
    order = order_in_status("pending")

    page = page_of(support_client, order)

    assert "Disabled: missing THIRTYFIVEUP_USERNAME, THIRTYFIVEUP_PASSWORD" in sync_box(
        page, "35up"
    )
    assert (
        "Disabled: missing SENDCLOUD_PUBLIC_KEY, SENDCLOUD_SECRET_KEY, SENDCLOUD_INTEGRATION_ID"
        in sync_box(page, "sendcloud")
    )
    assert "Enabled" in sync_box(page, "shipup")
    assert "Disabled" not in sync_box(page, "shipup")
    assert "Disabled: missing REEVOO_API_SECRET, REEVOO_TRKREF" in sync_box(page, "reevoo")


def test_panel_shows_remote_ids_last_success_pending_and_last_error(support_client):
    order = order_in_status("approved")
    Order.objects.filter(pk=order.pk).update(thirtyfiveup_id="35UP-4711")
    ProviderLink.objects.create(order=order, provider="sendcloud", remote_id="SC-99")
    for hours, state in [(1, "succeeded"), (3, "succeeded"), (4, "queued"), (5, "sending")]:
        DeliveryFactory(subject=order, state=state, finished_at=NOON + timedelta(hours=hours))
    DeliveryFactory(subject=order, state="failed", error="422: address missing")
    DeliveryFactory(
        subject=order,
        state="dead",
        error="503 Service Unavailable\n<html>maintenance page</html>",
    )
    DeliveryFactory(subject=order, provider="shipup", state="succeeded", finished_at=NOON)
    DeliveryFactory(subject=OrderFactory(), state="queued")  # another order's

    page = page_of(support_client, order)

    sendcloud = sync_box(page, "sendcloud")
    assert "Id at Sendcloud SC-99" in sendcloud
    assert "Last success (UTC) 2026-11-20 15:00:00" in sendcloud
    assert "Pending 2" in sendcloud
    assert "Last error Dead (out of attempts)" in sendcloud
    assert "503 Service Unavailable" in sendcloud
    assert "maintenance page" not in sendcloud
    assert "address missing" not in sendcloud
    assert "Id at 35up 35UP-4711" in sync_box(page, "35up")
    shipup = sync_box(page, "shipup")
    assert "Id at Shipup -" in shipup
    assert "Last success (UTC) 2026-11-20 12:00:00" in shipup
    assert "Pending 0" in shipup
    assert "Last error none" in shipup
    assert "Last success (UTC) never" in sync_box(page, "reevoo")


def test_panel_links_to_the_providers_deliveries_of_this_order(support_client):
    order = order_in_status("approved")
    wanted = DeliveryFactory(subject=order, provider="shipup")
    DeliveryFactory(subject=order, provider="sendcloud")
    DeliveryFactory(subject=OrderFactory(), provider="shipup")

    page = page_of(support_client, order)
    link = re.search(r'href="([^"]*)">Deliveries to Shipup', sync_box_html(page, "shipup"))
    delivery_list = support_client.get(link.group(1).replace("&amp;", "&"))

    assert delivery_list.status_code == 200
    listed = set(
        re.findall(r"/admin/outbox/delivery/(\d+)/change/", delivery_list.content.decode())
    )
    assert listed == {str(wanted.pk)}


# The timeline


def test_timeline_shows_status_changes_and_deliveries_in_time_order(support_client):
    order = order_in_status("pending")
    apply_reported_status(order_id=order.pk, status="approved")
    to_pending, to_approved = order.history.all()
    order.history.filter(pk=to_pending.pk).update(created_at=NOON)
    order.history.filter(pk=to_approved.pk).update(created_at=NOON + timedelta(minutes=2))
    shipup = DeliveryFactory(
        subject=order, provider="shipup", state="succeeded", attempts=1, last_status_code=200,
        created_at=NOON + timedelta(minutes=1),
    )  # fmt: skip
    sendcloud = DeliveryFactory(
        subject=order,
        state="failed",
        failure="refused",
        attempts=2,
        last_status_code=422,
        error="items[0].price: must be positive\nfull response follows",
        created_at=NOON + timedelta(minutes=3),
    )

    page = page_of(support_client, order)

    positions = [
        page.index("New (not placed at 35up) &rarr; Pending"),
        page.index(f"Delivery #{shipup.pk}"),
        page.index("Pending &rarr; Approved"),
        page.index(f"Delivery #{sendcloud.pk}"),
    ]
    assert positions == sorted(positions)
    row = timeline_row(page, sendcloud)
    assert text_of(row) == (
        "2026-11-20 12:03:00 Sendcloud: Create or update order (batch upsert) "
        "Refused by Sendcloud "
        f"support Delivery #{sendcloud.pk} : 2 attempts, last HTTP 422 "
        "items[0].price: must be positive"
    )
    delivery_url = reverse("admin:outbox_delivery_change", args=[sendcloud.pk])
    assert f'href="{delivery_url}"' in row
    assert "1 attempt, last HTTP 200" in text_of(timeline_row(page, shipup))


def test_timeline_of_an_order_without_history_or_deliveries_says_so(support_client):
    order = OrderFactory()

    assert "No status changes or deliveries yet." in page_of(support_client, order)


# Push buttons


def test_push_buttons_show_for_enabled_providers_to_users_with_the_permission(
    support_client, viewer_client, enable
):
    order = order_in_status("approved")
    enable("sendcloud", "shipup")

    support_page = page_of(support_client, order)
    viewer_page = page_of(viewer_client, order)

    assert push_url(order, "sendcloud") in support_page
    assert push_url(order, "shipup") in support_page
    assert push_url(order, "reevoo") not in support_page  # disabled
    assert "/push/" not in viewer_page


def test_push_asks_for_confirmation_then_queues_one_delivery(support_client, support_user, enable):
    order = order_in_status("approved")
    enable("shipup")

    confirm_page = support_client.get(push_url(order, "shipup")).content.decode()
    assert f"Send order {order.reference} to Shipup?" in confirm_page
    assert not Delivery.objects.exists()

    response = support_client.post(push_url(order, "shipup"))

    assert response.status_code == 302
    delivery = Delivery.objects.get()
    assert (
        delivery.subject_type,
        delivery.subject_id,
        delivery.provider,
        delivery.operation,
        delivery.state,
    ) == (
        "orders.order",
        order.pk,
        "shipup",
        operations.PUSH_ORDER,
        DeliveryState.QUEUED,
    )
    assert delivery.created_by == support_user.username
    assert messages_of(response) == [
        f"Order {order.reference}: queued for Shipup (delivery #{delivery.pk})."
    ]


def test_forged_push_without_the_permission_is_refused(viewer_client, enable):
    order = order_in_status("approved")
    enable("shipup")

    assert viewer_client.get(push_url(order, "shipup")).status_code == 403
    response = viewer_client.post(push_url(order, "shipup"))

    assert response.status_code == 403
    assert not Delivery.objects.exists()


def test_push_to_a_disabled_provider_says_what_it_misses(support_client):
    order = order_in_status("approved")

    response = support_client.post(push_url(order, "shipup"))

    assert response.status_code == 302
    assert messages_of(response) == ["Shipup is disabled: missing SHIPUP_API_KEY."]
    assert not Delivery.objects.exists()


def test_push_is_refused_while_a_delivery_to_that_provider_is_waiting(support_client, enable):
    order = order_in_status("approved")
    DeliveryFactory(subject=order, provider="shipup", state="queued")
    enable("shipup")

    page = page_of(support_client, order)
    response = support_client.post(push_url(order, "shipup"))

    assert push_url(order, "shipup") not in page
    assert "already has a delivery to Shipup waiting" in sync_box(page, "shipup")
    assert messages_of(response) == [
        f"Order {order.reference} already has a delivery to Shipup waiting to be sent "
        "(queued or sending)."
    ]
    assert Delivery.objects.count() == 1


def test_unknown_provider_is_not_found(support_client):
    assert support_client.get(push_url(OrderFactory(), "dhl")).status_code == 404


# The service behind the buttons


def test_only_new_orders_are_placed_at_35up(support_user, enable):
    new, approved = OrderFactory(), order_in_status("approved")
    enable("35up")
    actor = Actor.staff(support_user)

    placed = push_order_to_provider(order_id=new.pk, provider="35up", actor=actor)
    with pytest.raises(ActionError) as refused:
        push_order_to_provider(order_id=approved.pk, provider="35up", actor=actor)

    assert (placed.subject_type, placed.subject_id, placed.operation) == (
        "orders.order",
        new.pk,
        operations.PLACE_ORDER,
    )
    assert refused.value.message == (
        f"Order {approved.reference} is approved: only new orders are placed at 35up."
    )


def test_service_refuses_an_actor_without_the_permission(enable):
    order = order_in_status("delivered")
    enable("reevoo")

    with pytest.raises(PermissionRefused):
        push_order_to_provider(order_id=order.pk, provider="reevoo", actor=Actor.api(UserFactory()))

    assert not Delivery.objects.exists()


# Bulk push


def test_bulk_push_picks_a_provider_and_reports_each_order(support_client, support_user, enable):
    orders = [order_in_status("approved") for _ in range(3)]
    enable("sendcloud", "reevoo")
    selected = [order.pk for order in orders]

    picker = support_client.post(
        CHANGELIST_URL, {"action": "push_orders", "_selected_action": selected}
    ).content.decode()
    assert "Send 3 orders to a provider?" in picker
    assert 'value="sendcloud"' in picker
    assert 'value="shipup"' not in picker
    assert "Shipup is disabled: missing SHIPUP_API_KEY." in picker
    assert not Delivery.objects.exists()

    response = support_client.post(
        CHANGELIST_URL,
        {
            "action": "push_orders",
            "_selected_action": selected,
            "provider": "sendcloud",
            "confirm": "Yes",
        },
    )

    assert response.status_code == 302
    deliveries = Delivery.objects.all()
    assert sorted(d.subject_id for d in deliveries) == selected
    assert {d.subject_type for d in deliveries} == {"orders.order"}
    assert {(d.provider, d.state, d.created_by) for d in deliveries} == {
        ("sendcloud", DeliveryState.QUEUED, support_user.username)
    }
    assert sorted(messages_of(response)) == sorted(
        f"{Order.objects.get(pk=d.subject_id).reference}: queued for Sendcloud (delivery #{d.pk})."
        for d in deliveries
    )


def test_bulk_push_refuses_orders_one_by_one(support_client, enable):
    waiting, fresh = order_in_status("approved"), order_in_status("approved")
    DeliveryFactory(subject=waiting, provider="shipup", state="sending")
    enable("shipup")

    response = support_client.post(
        CHANGELIST_URL,
        {
            "action": "push_orders",
            "_selected_action": [waiting.pk, fresh.pk],
            "provider": "shipup",
            "confirm": "Yes",
        },
    )

    delivery = for_subject(fresh).get()
    assert sorted(messages_of(response)) == sorted(
        [
            f"{waiting.reference}: refused: Order {waiting.reference} already has a delivery to "
            "Shipup waiting to be sent (queued or sending).",
            f"{fresh.reference}: queued for Shipup (delivery #{delivery.pk}).",
        ]
    )


def test_bulk_push_takes_at_most_the_bulk_cap(support_client, enable, monkeypatch):
    monkeypatch.setattr("orders.admin.MAX_BULK_ORDERS", 2)
    orders = [order_in_status("approved") for _ in range(3)]
    enable("shipup")

    response = support_client.post(
        CHANGELIST_URL,
        {
            "action": "push_orders",
            "_selected_action": [order.pk for order in orders],
            "provider": "shipup",
            "confirm": "Yes",
        },
    )

    assert messages_of(response) == ["A bulk action takes at most 2 orders: narrow the list first."]
    assert not Delivery.objects.exists()


def test_bulk_push_is_offered_only_with_the_permission(support_client, viewer_client):
    OrderFactory()

    assert "push_orders" in support_client.get(CHANGELIST_URL).content.decode()
    assert "push_orders" not in viewer_client.get(CHANGELIST_URL).content.decode()


# Query count


def queries_of_page(client, order):
    client.get(change_url(order))  # fills the per-process content type cache
    with CaptureQueriesContext(connection) as captured:
        page_of(client, order)
    return [query["sql"] for query in captured]


def test_order_page_queries_do_not_grow_with_deliveries(support_client, enable):
    enable("35up", "sendcloud", "shipup", "reevoo")
    quiet, busy = order_in_status("approved"), order_in_status("approved")
    DeliveryFactory(subject=quiet, state="succeeded")
    providers = ["35up", "sendcloud", "shipup", "reevoo"]
    states = ["succeeded", "queued", "failed", "dead", "ambiguous"]
    for index in range(20):
        DeliveryFactory(
            subject=busy, provider=providers[index % 4], state=states[index % 5], error="boom"
        )
    for provider in providers[1:]:
        ProviderLink.objects.create(order=busy, provider=provider, remote_id=f"{provider}-1")

    quiet_queries = queries_of_page(support_client, quiet)
    busy_queries = queries_of_page(support_client, busy)

    assert len(busy_queries) == len(quiet_queries), "\n".join(busy_queries)
    delivery_queries = [sql for sql in busy_queries if "outbox_delivery" in sql]
    assert len(delivery_queries) == 2, "\n".join(delivery_queries)
