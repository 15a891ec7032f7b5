"""The return admin's query counts do not grow with the data: pinned, so a regression shows."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.actors import Actor
from returns.services import request_transition
from tests.factories import OrderLineFactory, UserFactory
from tests.returns.helpers import return_in_status, returnable_order

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:returns_return_changelist")
# session, user, user permissions, group permissions, capped count, one page of returns with
# their orders, the page's lines with their order lines
CHANGELIST_QUERIES = 7
# session, user, the return with its order, user and group permissions, its lines with their
# order lines, status history, deliveries (timeline)
CHANGE_PAGE_QUERIES = 8


@pytest.fixture
def support_client(client):
    client.force_login(UserFactory(groups=["support"]))
    return client


def queries_of(client, url, params=None):
    client.get(url, params or {})  # fills the per-process content type cache
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200
    return captured


def make_returns(count, lines_per_return=1):
    """`count` returns of one order, each with `lines_per_return` lines."""
    order = returnable_order(quantity=count * 2)
    returns = [return_in_status("awaiting_return", order=order) for _ in range(count)]
    for number in range(lines_per_return - 1):
        line = OrderLineFactory(order=order, quantity=count, thirtyfiveup_item_id=f"I-{number}")
        for return_request in returns:
            return_request.lines.create(
                order_line=line, quantity=1, thirtyfiveup_item_id=line.thirtyfiveup_item_id
            )
    return order, returns


@pytest.mark.parametrize(("returns", "lines"), [(2, 1), (60, 3)])
def test_changelist_queries_do_not_grow_with_returns_or_lines(support_client, returns, lines):
    order, _ = make_returns(returns, lines)

    captured = queries_of(support_client, CHANGELIST_URL)
    assert len(captured) == CHANGELIST_QUERIES, "\n".join(q["sql"] for q in captured)
    for params in [{"q": order.email}, {"status__exact": "awaiting_return"}]:
        assert len(queries_of(support_client, CHANGELIST_URL, params)) == CHANGELIST_QUERIES


def test_changelist_counts_through_a_limited_subquery(support_client, settings):
    settings.ORDER_LIST_COUNT_LIMIT = 50
    make_returns(3)

    captured = queries_of(support_client, CHANGELIST_URL)

    counts = [query["sql"] for query in captured if "COUNT(" in query["sql"].upper()]
    assert len(counts) == 1
    assert "LIMIT 51" in counts[0]


@pytest.mark.parametrize(("lines", "changes"), [(1, 1), (20, 3)])
def test_change_page_queries_do_not_grow_with_lines_or_history(support_client, lines, changes):
    _, (return_request,) = make_returns(1, lines)
    actor_user = UserFactory(groups=["support"])
    for action in ["mark_customer_shipped", "mark_seller_received", "mark_seller_shipped"][
        :changes
    ]:
        request_transition(
            return_id=return_request.pk, action=action, actor=Actor.staff(actor_user), message="m"
        )

    url = reverse("admin:returns_return_change", args=[return_request.pk])
    captured = queries_of(support_client, url)

    assert len(captured) == CHANGE_PAGE_QUERIES, "\n".join(q["sql"] for q in captured)


@pytest.mark.parametrize("returns", [0, 1, 15])
def test_order_page_returns_section_takes_one_query(support_client, returns):
    """One query for the returns with their lines, whatever their number (the other queries of
    the order page are pinned in tests/orders/test_admin_queries.py)."""
    without_returns = returnable_order()
    order, _ = make_returns(returns, 2) if returns else (returnable_order(), [])
    url = reverse("admin:orders_order_change", args=[order.pk])

    captured = queries_of(support_client, url)
    baseline = queries_of(
        support_client, reverse("admin:orders_order_change", args=[without_returns.pk])
    )

    assert len(captured) == len(baseline), "\n".join(q["sql"] for q in captured)
    returns_queries = [q["sql"] for q in captured if "returns_return" in q["sql"]]
    assert len(returns_queries) == 1
