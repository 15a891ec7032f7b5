"""The order admin's query counts do not grow with the data: pinned, so a regression shows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.services import apply_reported_status
from tests.factories import (
    OrderFactory,
    OrderLineFactory,
    ShipmentFactory,
    ShipmentLineFactory,
    UserFactory,
    order_in_status,
)

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:orders_order_changelist")
# session, user, user permissions, group permissions, the countries present (country filter),
# capped count, one page of orders (its totals and held markers are subqueries of that query)
CHANGELIST_QUERIES = 7
# session, user, user and group permissions, the order, lines, shipments, their lines, notes,
# status history, deliveries (timeline), deliveries per provider (sync panel), provider ids,
# returns with their lines (returns section)
CHANGE_PAGE_QUERIES = 14


@pytest.fixture
def support_client(client):
    client.force_login(UserFactory(groups=["support"]))
    return client


def queries_of(client, url, params=None):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return captured


@pytest.mark.parametrize("orders", [10, 200])
def test_changelist_queries_do_not_grow_with_orders(support_client, orders):
    for order in OrderFactory.create_batch(orders):
        apply_reported_status(order_id=order.pk, status="approved")

    assert len(queries_of(support_client, CHANGELIST_URL)) == CHANGELIST_QUERIES
    searched = queries_of(support_client, CHANGELIST_URL, {"q": "nobody@nile.example"})
    # A search first looks the term up as a whole reference, 35up id, email or last name.
    assert len(searched) == CHANGELIST_QUERIES + 1


def test_changelist_counts_through_a_limited_subquery(support_client, settings):
    settings.ORDER_LIST_COUNT_LIMIT = 50
    OrderFactory.create_batch(3)

    captured = queries_of(support_client, CHANGELIST_URL)

    counts = [query["sql"] for query in captured if "COUNT(" in query["sql"].upper()]
    assert len(counts) == 1
    assert "LIMIT 51" in counts[0]


def make_busy_order(lines, changes):
    order = order_in_status("approved")
    order_lines = [order.lines.get(), *OrderLineFactory.create_batch(lines - 1, order=order)]
    shipment = ShipmentFactory(order=order)
    for line in order_lines:
        ShipmentLineFactory(shipment=shipment, order_line=line)
    statuses = ["pending", "approved"] * (changes // 2)
    for status in statuses:
        apply_reported_status(order_id=order.pk, status=status)
    return order


@pytest.mark.parametrize(("lines", "changes"), [(1, 2), (30, 40)])
def test_change_page_queries_do_not_grow_with_lines_or_history(support_client, lines, changes):
    order = make_busy_order(lines, changes)
    support_client.post(
        reverse("admin:orders_order_transition", args=[order.pk, "hold"]),
        {"reason": "awaiting_payment", "message": "wait"},
    )
    assert order.history.last().message == "Reason: Waiting for payment. wait"

    url = reverse("admin:orders_order_change", args=[order.pk])
    support_client.get(url)  # fills the per-process content type cache
    captured = queries_of(support_client, url)

    assert len(captured) == CHANGE_PAGE_QUERIES, "\n".join(q["sql"] for q in captured)
