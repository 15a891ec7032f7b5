"""Read queries of the order screens that are more than a filter."""

import csv
from dataclasses import dataclass
from datetime import UTC

from django.db import connection
from django.db.models import (
    Count,
    DecimalField,
    F,
    Func,
    OuterRef,
    Q,
    Subquery,
    Sum,
    TextField,
    Value,
)
from django.db.models.functions import Coalesce

from core.search import FOLD_FUNCTION, Fold
from orders.models import Order, OrderLine, OrderNote, OrderStatus, OrderStatusChange
from outbox.selectors import TimelineEntry, subject_ids_needing_a_person, subject_timeline

# Orders listed under "needs a person" at most; the index says "1,000+" beyond.
NEEDS_A_PERSON_LIMIT = 1000

# A search term is split into words; each must be found. Bounded: a pasted paragraph is no query.
MAX_SEARCH_WORDS = 6
MAX_SEARCH_WORD_LENGTH = 100

ORDER_CSV_HEADER = [
    "reference",
    "status",
    "35up id",
    "ordered at (UTC)",
    "first name",
    "last name",
    "email",
    "phone",
    "company",
    "street",
    "house number",
    "address extra",
    "postcode",
    "city",
    "state",
    "country",
    "currency",
    "lines",
    "total",
    "imported at (UTC)",
]
# Excel reads a CSV as the machine's legacy code page unless it starts with a UTF-8 BOM.
UTF8_BOM = "\ufeff"
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
            "ordered_at",
            "first_name",
            "last_name",
            "email",
            "phone",
            "shipping_company",
            "shipping_street",
            "shipping_street_number",
            "shipping_extra",
            "shipping_postcode",
            "shipping_city",
            "shipping_state",
            "shipping_country",
            "currency",
            "line_count",
            "total",
            "created_at",
        )
        .iterator(chunk_size=CSV_CHUNK_SIZE)
    )
    for (
        reference,
        status,
        thirtyfiveup_id,
        ordered_at,
        *text,
        line_count,
        total,
        created_at,
    ) in rows:
        yield [
            *(spreadsheet_safe(value or "") for value in (reference, status, thirtyfiveup_id)),
            utc_stamp(ordered_at),
            *(spreadsheet_safe(value or "") for value in text),
            line_count,
            # SQLite sums decimals as floats: two places, as the prices are stored.
            "" if total is None else f"{total:.2f}",
            utc_stamp(created_at),
        ]


def utc_stamp(moment):
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def spreadsheet_safe(text):
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


class _EchoBuffer:
    """csv.writer writes into this and gets the line back, so no file builds up in memory."""

    def write(self, line):
        return line


def order_csv_lines(queryset):
    """The CSV file for `queryset`, line by line, for a streaming response."""
    writer = csv.writer(_EchoBuffer())
    yield UTF8_BOM + writer.writerow(ORDER_CSV_HEADER)
    for row in order_csv_rows(queryset):
        yield writer.writerow(row)


def order_timeline(order, notes):
    """Status changes, deliveries and `notes` (the order's notes, already read) of `order`,
    oldest first: two queries."""
    timeline = subject_timeline(order, order.history.all())
    timeline.entries.extend(TimelineEntry(note.created_at, note=note) for note in notes)
    timeline.entries.sort(key=lambda entry: (entry.at, entry.delivery is not None))
    return timeline


def order_notes(order):
    """The order's notes with their authors, oldest first, in one query."""
    return list(OrderNote.objects.filter(order=order).select_related("author"))


def order_ids_needing_a_person(limit=NEEDS_A_PERSON_LIMIT):
    """Orders with a delivery that needs a person (refused, not sent, dead, ambiguous; a refused
    shop action among them) or whose status 35up moved outside its graph: at most `limit` ids,
    in two index lookups however many orders there are."""
    ids = set(subject_ids_needing_a_person(Order._meta.label_lower, limit=limit))
    ids.update(
        Order.objects.filter(status_unexpected=True).order_by().values_list("pk", flat=True)[:limit]
    )
    return sorted(ids)[:limit]


def with_list_columns(queryset):
    """The order list's computed columns, for one page: the lines' total and the status the
    last change came from (an order moved back from approved to pending is held)."""
    lines_total = (
        OrderLine.objects.filter(order=OuterRef("pk"))
        .order_by()
        .values("order")
        .annotate(total=Sum(F("quantity") * F("unit_price")))
        .values("total")
    )
    last_change = OrderStatusChange.objects.filter(order=OuterRef("pk")).order_by(
        "-created_at", "-id"
    )
    return queryset.annotate(
        lines_total=Subquery(
            lines_total, output_field=DecimalField(max_digits=14, decimal_places=2)
        ),
        last_from_status=Subquery(last_change.values("from_status")[:1]),
    )


def is_held(order, last_from_status):
    """Put on hold: pending again after having been approved (a hold, by staff or by 35up),
    as opposed to pending since it was placed, awaiting approval."""
    return order.status == OrderStatus.PENDING and last_from_status == OrderStatus.APPROVED


@dataclass(frozen=True)
class Country:
    code: str
    name: str


def countries_present():
    """The shipping countries orders have, by name: on PostgreSQL a skip scan of the country
    index (one index probe per country), so it stays fast at millions of orders."""
    if connection.vendor == "postgresql":
        table = Order._meta.db_table
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                WITH RECURSIVE present(code) AS (
                    (SELECT shipping_country FROM {table} ORDER BY shipping_country LIMIT 1)
                    UNION ALL
                    SELECT (SELECT shipping_country FROM {table}
                            WHERE shipping_country > present.code
                            ORDER BY shipping_country LIMIT 1)
                    FROM present WHERE present.code IS NOT NULL
                )
                SELECT code FROM present WHERE code IS NOT NULL
                """  # noqa: S608 - the table name is the model's, no input
            )
            codes = [row[0] for row in cursor.fetchall()]
    else:
        codes = list(
            Order.objects.order_by("shipping_country")
            .values_list("shipping_country", flat=True)
            .distinct()
        )
    names = dict(Order._meta.get_field("shipping_country").choices)
    return sorted((Country(code, names.get(code, code)) for code in codes), key=lambda c: c.name)


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
    in any case and with or without accents: "0023", "de Vries", "hugo LEFEVRE", "@nile".

    A term that is a whole reference, 35up id, email or last name (any case) finds exactly those
    orders first: one cheap look-up on the unique and UPPER indexes, where the any-part search
    of a common term ("smith", an email's "example.com") reads thousands of rows.
    """
    words = [word[:MAX_SEARCH_WORD_LENGTH] for word in term.split()][:MAX_SEARCH_WORDS]
    if not words:
        return queryset
    whole = " ".join(words)
    exact = queryset.filter(
        Q(reference=whole)
        | Q(thirtyfiveup_id=whole)
        | Q(email__iexact=whole)
        | Q(last_name__iexact=whole)
    )
    if exact.exists():
        return exact
    queryset = queryset.alias(search_document=OrderSearchDocument())
    for word in words:
        queryset = queryset.filter(search_document__contains=Fold(Value(word)))
    return queryset
