"""The order ingest format: what a document becomes, and idempotency on reference."""

import copy
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.utils import timezone

from core.actors import Actor
from orders.ingest import IngestOutcome, ingest_order
from orders.models import Order, OrderStatus

pytestmark = pytest.mark.django_db

# DESIGN.md's example document.
EXAMPLE_DOCUMENT = {
    "reference": "Order74927943",
    "session": "123abc",
    "currency": "USD",
    "language": "en",
    "ordered_at": "2026-11-20T10:00:00Z",
    "customer": {
        "first_name": "Jeffrey",
        "last_name": "Bazos",
        "email": "jeffrey@nile.com",
        "phone": "001384859590",
    },
    "shipping_address": {
        "first_name": "Jeffrey",
        "last_name": "Bazos",
        "email": "jeffrey@nile.com",
        "phone": "001384859590",
        "company": "Nile",
        "street": "Monopoly Street",
        "street_number": "66",
        "extra": "Top Floor",
        "city": "Seattle",
        "postcode": "98121",
        "state": "WA",
        "country": "US",
    },
    "lines": [
        {
            "sku": "caseable/HC12PXX127030XXAPIP2P",
            "name": "Hard case",
            "quantity": 2,
            "unit_price": "29.99",
            "config": {"size": "45", "color": "black"},
        }
    ],
}


def ingest_document(reference="Order74927943", **changes):
    """DESIGN.md's example with `changes`: top-level keys, or "customer"/"shipping_address"
    dicts merged into the example's (a value of None removes the key)."""
    document = copy.deepcopy(EXAMPLE_DOCUMENT)
    for key, value in {"reference": reference, **changes}.items():
        if value is None:
            document.pop(key)
        elif key in ("customer", "shipping_address"):
            for inner_key, inner_value in value.items():
                if inner_value is None:
                    document[key].pop(inner_key)
                else:
                    document[key][inner_key] = inner_value
        else:
            document[key] = value
    return document


def ingest(document):
    return ingest_order(document, actor=Actor.system("test"))


def test_example_document_creates_the_order_as_sent():
    result = ingest(ingest_document())

    assert result.outcome == IngestOutcome.CREATED
    assert result.errors == []
    order = Order.objects.get(reference="Order74927943")
    assert result.order == order
    assert order.status == OrderStatus.NEW
    assert (order.session, order.currency, order.language) == ("123abc", "USD", "en")
    assert order.ordered_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert (order.first_name, order.last_name, order.email, order.phone) == (
        "Jeffrey",
        "Bazos",
        "jeffrey@nile.com",
        "001384859590",
    )
    assert (
        order.shipping_company,
        order.shipping_street,
        order.shipping_street_number,
        order.shipping_extra,
        order.shipping_city,
        order.shipping_postcode,
        order.shipping_state,
        order.shipping_country.code,
    ) == ("Nile", "Monopoly Street", "66", "Top Floor", "Seattle", "98121", "WA", "US")
    assert order.thirtyfiveup_id is None
    [line] = order.lines.all()
    assert (line.sku, line.name, line.quantity) == (
        "caseable/HC12PXX127030XXAPIP2P",
        "Hard case",
        2,
    )
    assert line.unit_price == Decimal("29.99")
    assert line.total_price == Decimal("59.98")
    assert line.config == {"size": "45", "color": "black"}


def test_received_order_has_one_history_row():
    ingest(ingest_document())

    [row] = Order.objects.get(reference="Order74927943").history.all()
    assert (row.from_status, row.to_status, row.message) == ("new", "new", "Order received.")
    assert (row.source, row.actor_label, row.user) == ("system", "test", None)


def test_lines_keep_their_order_and_prices_stay_decimal():
    lines = [
        {"sku": "belkin/WIA004btBK", "name": "Charger", "quantity": 1, "unit_price": "149.99"},
        {"sku": "anker/A2633", "name": "Nano", "quantity": 3, "unit_price": "0.10"},
        {"sku": "zagg/200111592", "name": "Glass", "quantity": 1, "unit_price": "0"},
    ]

    result = ingest(ingest_document(lines=lines))

    assert [(line.sku, line.quantity, line.unit_price) for line in result.order.lines.all()] == [
        ("belkin/WIA004btBK", 1, Decimal("149.99")),
        ("anker/A2633", 3, Decimal("0.10")),
        ("zagg/200111592", 1, Decimal("0.00")),
    ]
    assert sum(line.total_price for line in result.order.lines.all()) == Decimal("150.29")


def test_optional_fields_take_their_defaults():
    before = timezone.now()
    document = ingest_document(
        session=None,
        language=None,
        ordered_at=None,
        customer={"phone": None},
        shipping_address={
            "phone": None,
            "company": None,
            "extra": None,
            "state": None,
            "country": "DE",
        },
        lines=[{"sku": "hama/00201536", "name": "Hub", "quantity": 1, "unit_price": "44.99"}],
    )

    result = ingest(document)

    assert result.outcome == IngestOutcome.CREATED, result.errors
    order = result.order
    assert (order.session, order.language, order.phone) == ("", "en", "")
    assert (order.shipping_company, order.shipping_extra, order.shipping_state) == ("", "", "")
    assert order.shipping_phone == ""
    assert before <= order.ordered_at <= timezone.now()
    assert order.lines.get().config == {}


def test_shipping_name_email_and_phone_default_to_the_customer():
    document = ingest_document(
        customer={"first_name": "Ada", "last_name": "Lovelace", "email": "ada@example.com"},
        shipping_address={"first_name": None, "last_name": None, "email": None, "phone": None},
    )

    order = ingest(document).order

    assert (
        order.shipping_first_name,
        order.shipping_last_name,
        order.shipping_email,
        order.shipping_phone,
    ) == ("Ada", "Lovelace", "ada@example.com", "001384859590")


def test_shipping_name_and_email_given_override_the_customer():
    document = ingest_document(
        shipping_address={"first_name": "Mack", "last_name": "Kenzie", "email": "mk@nile.com"}
    )

    order = ingest(document).order

    assert (order.shipping_first_name, order.shipping_last_name, order.shipping_email) == (
        "Mack",
        "Kenzie",
        "mk@nile.com",
    )
    assert (order.first_name, order.email) == ("Jeffrey", "jeffrey@nile.com")


def test_codes_are_normalised_to_their_iso_case():
    document = ingest_document(
        currency="usd", language="EN", shipping_address={"country": "us", "state": "wa"}
    )

    order = ingest(document).order

    assert (order.currency, order.language) == ("USD", "en")
    assert (order.shipping_country.code, order.shipping_state) == ("US", "WA")


# Idempotency on reference.


def test_same_document_twice_creates_then_is_unchanged():
    first = ingest(ingest_document())
    second = ingest(ingest_document())

    assert (first.outcome, second.outcome) == (IngestOutcome.CREATED, IngestOutcome.UNCHANGED)
    assert second.errors == []
    assert second.order == first.order
    assert Order.objects.filter(reference="Order74927943").count() == 1
    assert first.order.history.count() == 1
    assert first.order.lines.count() == 1


def test_repeat_with_only_normalised_differences_is_unchanged():
    ingest(ingest_document())

    repeat = ingest_document(currency="usd", shipping_address={"country": "us"})
    repeat["lines"][0]["sku"] = "  caseable/HC12PXX127030XXAPIP2P "

    assert ingest(repeat).outcome == IngestOutcome.UNCHANGED


def test_repeat_spelling_out_the_shipping_defaults_is_unchanged():
    ingest(ingest_document(shipping_address={"first_name": None, "email": None}))

    assert ingest(ingest_document()).outcome == IngestOutcome.UNCHANGED


def test_repeat_without_ordered_at_is_unchanged():
    ingest(ingest_document(ordered_at=None))

    assert ingest(ingest_document(ordered_at=None)).outcome == IngestOutcome.UNCHANGED


@pytest.mark.parametrize(
    "change",
    [
        {"currency": "EUR"},
        {"customer": {"email": "other@nile.com"}},
        {"shipping_address": {"street_number": "67"}},
        {"ordered_at": "2026-11-20T10:00:01Z"},
        {
            "lines": [
                {
                    "sku": "caseable/HC12PXX127030XXAPIP2P",
                    "name": "Hard case",
                    "quantity": 3,
                    "unit_price": "29.99",
                }
            ]
        },
    ],
)
def test_same_reference_with_different_content_is_refused_and_the_original_kept(change):
    original = ingest(ingest_document()).order

    result = ingest(ingest_document(**change))

    assert result.outcome == IngestOutcome.REFUSED
    assert result.errors == [
        "reference: order Order74927943 already exists with different content; "
        "a repeat must be identical (orders are never merged)."
    ]
    order = Order.objects.get(reference="Order74927943")
    assert order.pk == original.pk
    assert (order.currency, order.email, order.shipping_street_number) == (
        "USD",
        "jeffrey@nile.com",
        "66",
    )
    assert order.ordered_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert [line.quantity for line in order.lines.all()] == [2]
    assert order.history.count() == 1


def test_refused_document_creates_nothing():
    result = ingest(ingest_document(currency="ZZZ"))

    assert result.outcome == IngestOutcome.REFUSED
    assert result.order is None
    assert not Order.objects.exists()


def test_a_refused_document_does_not_block_a_later_valid_one():
    ingest(ingest_document(currency="ZZZ"))

    assert ingest(ingest_document()).outcome == IngestOutcome.CREATED
