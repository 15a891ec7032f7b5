"""`manage.py generate_orders`: the benchmark data stays realistic and writes nothing to send."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from orders.models import Order, OrderStatus, Shipment
from outbox.models import Delivery
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db

SHIPPED = {OrderStatus.FULFILLED, OrderStatus.DELIVERED, OrderStatus.CLOSED}


def generate(count, *args):
    out = StringIO()
    call_command("generate_orders", count, *args, stdout=out)
    return out.getvalue()


def test_orders_come_with_lines_history_and_shipments():
    output = generate(50, "--chunk-size", "20")

    assert "50 orders" in output
    orders = Order.objects.prefetch_related("lines", "history", "shipments__lines")
    assert len(orders) == 50
    for order in orders:
        lines = list(order.lines.all())
        assert 1 <= len(lines) <= 3
        history = list(order.history.all())
        if order.status == OrderStatus.NEW:
            assert history == []
            assert order.thirtyfiveup_id is None
        else:
            assert history[0].from_status == OrderStatus.NEW
            assert history[-1].to_status == order.status
            assert order.thirtyfiveup_updated_at == history[-1].created_at
            assert order.thirtyfiveup_id
        shipments = list(order.shipments.all())
        if order.status in SHIPPED:
            [shipment] = shipments
            assert sorted((s.order_line_id, s.quantity) for s in shipment.lines.all()) == sorted(
                (line.pk, line.quantity) for line in lines
            )
        else:
            assert shipments == []


def test_statuses_countries_and_dates_spread():
    generate(50)

    orders = list(Order.objects.all())
    assert len({order.status for order in orders}) >= 3
    assert len({order.shipping_country.code for order in orders}) >= 4
    created = sorted(order.created_at for order in orders)
    # The dates given are kept, not replaced by the time of the insert (auto_now_add).
    assert created[-1] - created[0] > timedelta(days=300)
    assert all(order.ordered_at < order.created_at for order in orders)


def test_nothing_is_queued_for_a_provider():
    generate(50)

    assert Shipment.objects.exists()
    assert not Delivery.objects.exists()


def test_a_second_run_adds_orders_after_the_first():
    generate(10)
    generate(10)

    references = set(Order.objects.values_list("reference", flat=True))
    assert len(references) == 20
    assert {"GEN-00000001", "GEN-00000020"} <= references


def test_orders_saved_after_a_run_are_stamped_with_the_time_again():
    generate(5)

    order = OrderFactory(created_at=timezone.now() - timedelta(days=100))

    assert timezone.now() - order.created_at < timedelta(minutes=1)
