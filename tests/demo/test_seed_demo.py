"""seed_demo as a new user meets it: users, 50 orders in every status, placed at the sandbox."""

import io

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from orders.models import Order, OrderNote, OrderStatus, Shipment
from outbox.models import Delivery, DeliveryState
from sandbox.models import SandboxOrder

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
    assert client.login(username="admin", password="orderhub-demo")
    assert client.login(username="support", password="orderhub-support")
    assert client.get("/admin/").status_code == 200

    # Seeding takes seconds (real HTTP to the sandbox): one run serves the checks below.
    check_orders_are_placed_at_the_sandbox_35up_once_each_with_its_status()
    check_orders_have_real_history()
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


def check_a_second_run_changes_nothing():
    counts = (Order.objects.count(), Shipment.objects.count(), OrderNote.objects.count())
    statuses = dict(Order.objects.values_list("reference", "status"))
    deliveries = Delivery.objects.count()

    out, error = run("seed_demo")

    assert error is None
    assert "Demo data already present: nothing changed (50 demo orders, 9 statuses)." in out
    assert "Created user" not in out
    assert "admin / orderhub-demo" in out
    assert (Order.objects.count(), Shipment.objects.count(), OrderNote.objects.count()) == counts
    assert dict(Order.objects.values_list("reference", "status")) == statuses
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
