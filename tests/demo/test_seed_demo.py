"""seed_demo as a new user meets it: users, 50 orders in every status, placed at the sandbox, and
returns of delivered or fulfilled orders in several return statuses, requested there too."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.http import HttpRequest
from django.urls import reverse

from orders.models import Order, OrderLine, OrderNote, OrderStatus, Shipment
from outbox.models import Delivery, DeliveryState
from returns.models import Return, ReturnStatusChange
from sandbox.models import SandboxOrder, SandboxReturn

# One demo return per story (demo.scenario.RETURN_STORIES).
RETURN_STATUSES = {
    "awaiting_return",
    "customer_shipped",
    "seller_received",
    "refunded",
    "closed",
    "cancelled",
}

# The sandbox is served over HTTP from a thread while seeding: it must see committed rows.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("staff_groups")]


def run(*args):
    out = io.StringIO()
    try:
        call_command(*args, stdout=out)
    except CommandError as error:
        return out.getvalue(), str(error)
    return out.getvalue(), None


def test_seed_demo_creates_users_and_orders_in_every_status_and_country(client):
    out, error = run("seed_demo")

    assert error is None
    assert "Created user admin." in out
    assert "Created user support." in out
    assert "50 demo orders (9 statuses): 50 created, 0 already present." in out
    assert "http://127.0.0.1:8000/admin/" in out
    assert "admin / orderhub-demo" in out
    assert "support / orderhub-support" in out

    orders = Order.objects.filter(reference__startswith="DEMO-")
    assert orders.count() == 50
    assert set(orders.values_list("status", flat=True)) == set(OrderStatus.values)
    assert {"US", "DE", "NL", "FR", "GB", "CA", "AU"} <= set(
        orders.values_list("shipping_country", flat=True)
    )
    assert {"USD", "EUR", "GBP"} <= set(orders.values_list("currency", flat=True))
    assert {"en", "de", "nl", "fr"} <= set(orders.values_list("language", flat=True))
    assert orders.get(shipping_country="CA", reference="DEMO-0037").shipping_state == "QC"
    assert set(orders.filter(shipping_country="AU").values_list("shipping_state", flat=True)) == {
        "NSW"
    }
    assert all(1 <= order.lines.count() <= 3 for order in orders)
    assert OrderNote.objects.count() >= 2

    shipped = orders.filter(status__in=["fulfilled", "delivered"])
    assert shipped.exists()
    assert all(order.shipments.exists() for order in shipped)
    assert not Shipment.objects.filter(order__status__in=["new", "pending", "approved"]).exists()
    assert all(shipment.carrier_code for shipment in Shipment.objects.all())

    User = get_user_model()
    admin, support = User.objects.get(username="admin"), User.objects.get(username="support")
    assert admin.is_superuser and admin.is_staff
    assert support.is_staff and not support.is_superuser
    assert list(support.groups.values_list("name", flat=True)) == ["support"]
    # django-axes checks every sign-in against a request (its throttle is per address).
    assert client.login(request=HttpRequest(), username="admin", password="orderhub-demo")
    assert client.login(request=HttpRequest(), username="support", password="orderhub-support")
    assert client.get("/admin/").status_code == 200

    # Seeding takes seconds (real HTTP to the sandbox): one run serves the checks below.
    check_orders_are_placed_at_the_sandbox_35up_once_each_with_its_status()
    check_orders_have_real_history()
    check_returns_are_requested_at_the_sandbox_35up_and_moved_on(client)
    check_a_second_run_changes_nothing()


def check_orders_are_placed_at_the_sandbox_35up_once_each_with_its_status():
    placed = Order.objects.filter(reference__startswith="DEMO-", thirtyfiveup_id__isnull=False)
    local = Order.objects.filter(reference__startswith="DEMO-", thirtyfiveup_id__isnull=True)
    assert placed.count() >= 40
    # Only orders the shop never sent stay local: new ones, and ones cancelled while new.
    assert set(local.values_list("status", flat=True)) <= {"new", "cancelled"}
    at_sandbox = dict(SandboxOrder.objects.values_list("reference", "public_id"))
    assert len(at_sandbox) == placed.count()
    for order in placed:
        assert at_sandbox[order.reference] == order.thirtyfiveup_id
        sandbox_order = SandboxOrder.objects.get(public_id=order.thirtyfiveup_id)
        assert sandbox_order.status == order.status
    assert not Order.objects.filter(status_unexpected=True).exists()
    # Every 35up call went through; the other providers wait for the delivery loop.
    thirtyfiveup = Delivery.objects.filter(provider="35up")
    assert thirtyfiveup.exists()
    assert set(thirtyfiveup.values_list("state", flat=True)) == {DeliveryState.SUCCEEDED}
    assert Delivery.objects.filter(provider="shipup", state=DeliveryState.QUEUED).exists()


def check_orders_have_real_history():
    delivered = Order.objects.filter(reference__startswith="DEMO-", status="delivered").first()
    steps = list(delivered.history.values_list("from_status", "to_status", "source"))
    assert steps[0] == ("new", "new", "system")
    assert ("new", "pending", "provider") in steps
    assert ("pending", "approved", "staff") in steps
    assert steps[-1] == ("fulfilled", "delivered", "provider")
    times = list(delivered.history.values_list("created_at", flat=True))
    assert times == sorted(times)
    assert not delivered.history.filter(unexpected=True).exists()


def check_returns_are_requested_at_the_sandbox_35up_and_moved_on(client):
    # Placing an order at 35up gives its lines their 35up item ids, which a return needs.
    placed_lines = OrderLine.objects.filter(order__thirtyfiveup_id__isnull=False)
    assert placed_lines.exists()
    assert not placed_lines.filter(thirtyfiveup_item_id="").exists()

    returns = Return.objects.select_related("order")
    assert returns.count() == 6
    assert set(returns.values_list("status", flat=True)) == RETURN_STATUSES
    at_sandbox = dict(SandboxReturn.objects.values_list("public_id", "status"))
    assert len(at_sandbox) == 6
    for return_request in returns:
        assert return_request.order.reference.startswith("DEMO-")
        assert return_request.order.status in {"fulfilled", "delivered"}
        assert at_sandbox[return_request.thirtyfiveup_id] == return_request.status
        assert return_request.requested_by_label == "support"
        assert return_request.reason
        lines = list(return_request.lines.all())
        assert lines and all(line.thirtyfiveup_item_id for line in lines)
        steps = list(return_request.history.values_list("from_status", "to_status", "source"))
        assert steps[0] == ("new", "new", "staff")
        assert ("new", "created", "provider") in steps
    assert not returns.filter(status_unexpected=True).exists()
    assert not ReturnStatusChange.objects.filter(unexpected=True).exists()
    # The shop's own moves went out as PATCHes and came back as 35up's answer.
    shop_moves = set(
        ReturnStatusChange.objects.filter(source="staff")
        .exclude(from_status="new", to_status="new")
        .values_list("from_status", "to_status")
    )
    assert shop_moves == {
        ("awaiting_return", "seller_received"),
        ("awaiting_return", "cancelled"),
    }
    refunded = returns.get(status="refunded")
    assert refunded.lines.count() == refunded.order.lines.count()
    assert [line.quantity for line in refunded.lines.all()] == [
        line.quantity for line in refunded.order.lines.all()
    ]
    return_deliveries = Delivery.objects.filter(subject_type="returns.return")
    assert return_deliveries.filter(operation="request_return").count() == 6
    assert set(return_deliveries.values_list("state", flat=True)) == {DeliveryState.SUCCEEDED}

    # The shop must ship one return on to the vendor: the admin index says so.
    assert client.login(request=HttpRequest(), username="support", password="orderhub-support")
    index = client.get(reverse("admin:index")).content.decode()
    waiting = index[index.index('id="return-alerts"') :]
    assert "?status__exact=seller_received" in waiting
    assert 'font-weight:bold">1</td>' in waiting


def check_a_second_run_changes_nothing():
    counts = (Order.objects.count(), Shipment.objects.count(), OrderNote.objects.count())
    statuses = dict(Order.objects.values_list("reference", "status"))
    return_statuses = dict(Return.objects.values_list("pk", "status"))
    deliveries = Delivery.objects.count()

    out, error = run("seed_demo")

    assert error is None
    assert "Demo data already present: nothing changed (50 demo orders, 9 statuses)." in out
    assert "Created user" not in out
    assert "admin / orderhub-demo" in out
    assert (Order.objects.count(), Shipment.objects.count(), OrderNote.objects.count()) == counts
    assert dict(Order.objects.values_list("reference", "status")) == statuses
    assert dict(Return.objects.values_list("pk", "status")) == return_statuses
    assert SandboxReturn.objects.count() == 6
    assert Delivery.objects.count() == deliveries
    assert get_user_model().objects.filter(username__in=["admin", "support"]).count() == 2


def test_seed_demo_keeps_an_existing_admin_password():
    get_user_model().objects.create_superuser("admin", "ops@shop.example", "changed-by-ops-1")

    out, _ = run("seed_demo")

    assert "Created user admin." not in out
    assert get_user_model().objects.get(username="admin").check_password("changed-by-ops-1")


def test_seed_demo_refuses_without_the_sandbox(settings):
    settings.SANDBOX_ENABLED = False

    _, error = run("seed_demo")

    assert "SANDBOX_ENABLED" in error
    assert not Order.objects.exists()
