"""Read queries of the order screens that are more than a filter."""

import csv
from datetime import UTC

from django.db.models import Count, DecimalField, F, Func, Sum, TextField, Value
from django.db.models.functions import Coalesce

from core.search import FOLD_FUNCTION, Fold
from outbox.selectors import subject_timeline

# A search term is split into words; each must be found. Bounded: a pasted paragraph is no query.
MAX_SEARCH_WORDS = 6
MAX_SEARCH_WORD_LENGTH = 100

ORDER_CSV_HEADER = [
    "reference",
    "status",
    "35up id",
    "first name",
    "last name",
    "email",
    "country",
    "currency",
    "lines",
    "total",
    "created at (UTC)",
]
# Rows fetched per database round trip while streaming; a server-side cursor on PostgreSQL.
CSV_CHUNK_SIZE = 2000
# A cell starting with one of these is run as a formula by spreadsheet programs; names and emails
# come from customers, so such cells are quoted.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def order_csv_rows(queryset):
    """One row per order of `queryset` (filters and ordering kept), lines counted in the query."""
    rows = (
        queryset.annotate(
            line_count=Count("lines"),
            total=Sum(
                F("lines__quantity") * F("lines__unit_price"),
                output_field=DecimalField(max_digits=14, decimal_places=2),
            ),
        )
        .values_list(
            "reference",
            "status",
            "thirtyfiveup_id",
            "first_name",
            "last_name",
            "email",
            "shipping_country",
            "currency",
            "line_count",
            "total",
            "created_at",
        )
        .iterator(chunk_size=CSV_CHUNK_SIZE)
    )
    for *text, line_count, total, created_at in rows:
        yield [
            *(spreadsheet_safe(value or "") for value in text),
            line_count,
            # SQLite sums decimals as floats: two places, as the prices are stored.
            "" if total is None else f"{total:.2f}",
            created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        ]


def spreadsheet_safe(text):
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


class _EchoBuffer:
    """csv.writer writes into this and gets the line back, so no file builds up in memory."""

    def write(self, line):
        return line


def order_csv_lines(queryset):
    """The CSV file for `queryset`, line by line, for a streaming response."""
    writer = csv.writer(_EchoBuffer())
    yield writer.writerow(ORDER_CSV_HEADER)
    for row in order_csv_rows(queryset):
        yield writer.writerow(row)


def order_timeline(order):
    """Status changes and deliveries of `order`, oldest first, in two queries."""
    return subject_timeline(order, order.history.all())


class OrderSearchDocument(Func):
    """What the order search looks in, folded (core.search): reference, customer name, email and
    35up id. On PostgreSQL a trigram index is built on exactly this expression (migration
    orders.0005); change both together."""

    function = FOLD_FUNCTION
    arg_joiner = " || ' ' || "
    output_field = TextField()

    def __init__(self):
        super().__init__(
            F("reference"),
            F("first_name"),
            F("last_name"),
            F("email"),
            Coalesce(F("thirtyfiveup_id"), Value("")),
        )


def search_orders(queryset, term):
    """Orders of `queryset` whose reference, name, email or 35up id contain every word of `term`,
    in any case and with or without accents: "0023", "de Vries", "hugo LEFEVRE", "@nile"."""
    words = [word[:MAX_SEARCH_WORD_LENGTH] for word in term.split()][:MAX_SEARCH_WORDS]
    if not words:
        return queryset
    queryset = queryset.alias(search_document=OrderSearchDocument())
    for word in words:
        queryset = queryset.filter(search_document__contains=Fold(Value(word)))
    return queryset
