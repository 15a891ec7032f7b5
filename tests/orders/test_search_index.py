"""The order search's SQL expression and the trigram index of migration orders.0005 are written
twice (orders.selectors.OrderSearchDocument, the migration's CREATE INDEX): they must stay the
same expression, or every search at a million orders scans the table."""

import pytest
from django.db import connection

from core.search import fold
from orders.models import Order
from orders.selectors import search_orders
from tests.factories import OrderFactory

pytestmark = pytest.mark.django_db


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigram index is PostgreSQL's")
def test_the_any_part_search_reads_the_trigram_index():
    OrderFactory(first_name="Hugo", last_name="Lefèvre")
    # Unordered: the point is how the filter is answered, not the list's ordering index.
    queryset = search_orders(Order.objects.order_by(), "hugo lefevre")
    sql, params = queryset.query.sql_with_params()

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "order_search_trgm_idx" in plan, plan
    assert list(queryset.values_list("last_name", flat=True)) == ["Lefèvre"]


@pytest.mark.parametrize(
    ("text", "folded"),
    [("Lefèvre", "lefevre"), ("STRAßE", "strasse"), ("Søren Ørsted", "soren orsted"), ("", "")],
)
def test_fold_lowers_and_strips_accents(text, folded):
    assert fold(text) == folded
