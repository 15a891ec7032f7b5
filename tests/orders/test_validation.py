"""Validation of ingest documents: one readable line per problem, `path: message`."""

import pytest

from orders.ingest import IngestOutcome
from orders.models import Order
from tests.orders.test_ingest import ingest, ingest_document

pytestmark = pytest.mark.django_db


def line(**changes):
    return {
        "sku": "caseable/HC12PXX127030XXAPIP2P",
        "name": "Hard case",
        "quantity": 1,
        "unit_price": "29.99",
        **changes,
    }


def refusal(document):
    result = ingest(document)
    assert result.outcome == IngestOutcome.REFUSED
    assert not Order.objects.exists()
    return result.errors


@pytest.mark.parametrize("country", ["USA", "XX", "U", "1A"])
def test_country_must_be_iso_3166_alpha_2(country):
    document = ingest_document(shipping_address={"country": country, "state": None})

    assert refusal(document) == [
        f"shipping_address.country: '{country}' is not an ISO 3166-1 alpha-2 country code "
        "(e.g. US, DE, GB)."
    ]


def test_country_is_required():
    document = ingest_document(shipping_address={"country": None})

    assert refusal(document) == ["shipping_address.country: This field is required."]


@pytest.mark.parametrize("country", ["US", "CA", "AU"])
@pytest.mark.parametrize("state", [None, ""])
def test_state_is_required_for_us_ca_and_au(country, state):
    document = ingest_document(shipping_address={"country": country})
    if state is None:
        del document["shipping_address"]["state"]
    else:
        document["shipping_address"]["state"] = state

    assert refusal(document) == [
        f"shipping_address.state: A state is required for {country} addresses "
        "(ISO 3166-2 code, e.g. WA)."
    ]


@pytest.mark.parametrize(("country", "state"), [("US", "XX"), ("US", "NSW"), ("CA", "WA")])
def test_state_must_be_a_subdivision_of_the_country(country, state):
    document = ingest_document(shipping_address={"country": country, "state": state})

    assert refusal(document) == [
        f"shipping_address.state: '{state}' is not an ISO 3166-2 subdivision of {country} "
        "(use the code without the country prefix, e.g. WA, QC, NSW)."
    ]


def test_state_with_the_country_prefix_is_refused():
    document = ingest_document(shipping_address={"state": "US-WA"})

    assert refusal(document) == [
        "shipping_address.state: Ensure this field has no more than 3 characters."
    ]


@pytest.mark.parametrize(
    ("country", "state"), [("AU", "NSW"), ("CA", "QC"), ("US", "WA"), ("US", "ny")]
)
def test_real_subdivisions_are_accepted(country, state):
    document = ingest_document(shipping_address={"country": country, "state": state})

    result = ingest(document)

    assert result.outcome == IngestOutcome.CREATED, result.errors
    assert result.order.shipping_state == state.upper()


@pytest.mark.parametrize("country", ["DE", "NL", "FR", "GB"])
def test_state_is_optional_elsewhere(country):
    document = ingest_document(shipping_address={"country": country, "state": None})

    assert ingest(document).outcome == IngestOutcome.CREATED


@pytest.mark.parametrize(
    ("path", "document_change"),
    [
        ("customer.email", {"customer": {"email": "jeffrey.nile.com"}}),
        ("shipping_address.email", {"shipping_address": {"email": "jeffrey@"}}),
    ],
)
def test_email_must_be_valid(path, document_change):
    assert refusal(ingest_document(**document_change)) == [f"{path}: Enter a valid email address."]


def test_quantity_zero_is_refused():
    document = ingest_document(lines=[line(quantity=0)])

    assert refusal(document) == [
        "lines[0].quantity: Ensure this value is greater than or equal to 1."
    ]


@pytest.mark.parametrize("sku", ["", "   "])
def test_empty_sku_is_refused(sku):
    document = ingest_document(lines=[line(), line(sku=sku)])

    assert refusal(document) == ["lines[1].sku: This field may not be blank."]


@pytest.mark.parametrize("sku", ["caseable/ HC12PXX127030XXAPIP2P", "caseable/HC12 PXX"])
def test_sku_with_inner_space_is_refused(sku):
    document = ingest_document(lines=[line(sku=sku)])

    assert refusal(document) == [
        f"lines[0].sku: '{sku}' is not a SKU of the form vendor/code without spaces."
    ]


def test_sku_without_vendor_is_refused():
    document = ingest_document(lines=[line(sku="HC12PXX127030XXAPIP2P")])

    assert refusal(document) == [
        "lines[0].sku: 'HC12PXX127030XXAPIP2P' is not a SKU of the form vendor/code without spaces."
    ]


def test_sku_surrounding_spaces_are_stripped():
    document = ingest_document(lines=[line(sku="  caseable/HC12PXX127030XXAPIP2P \t")])

    result = ingest(document)

    assert result.outcome == IngestOutcome.CREATED, result.errors
    assert result.order.lines.get().sku == "caseable/HC12PXX127030XXAPIP2P"


@pytest.mark.parametrize("currency", ["ZZZ", "XYZ"])
def test_currency_must_be_iso_4217(currency):
    assert refusal(ingest_document(currency=currency)) == [
        f"currency: '{currency}' is not an ISO 4217 currency code (e.g. EUR, USD, GBP)."
    ]


@pytest.mark.parametrize("currency", ["US", "EURO"])
def test_currency_must_have_three_letters(currency):
    length_message = {
        "US": "Ensure this field has at least 3 characters.",
        "EURO": "Ensure this field has no more than 3 characters.",
    }[currency]

    assert refusal(ingest_document(currency=currency)) == [f"currency: {length_message}"]


def test_lower_case_currency_is_normalised_to_upper_case():
    result = ingest(ingest_document(currency="usd"))

    assert result.outcome == IngestOutcome.CREATED
    assert result.order.currency == "USD"


@pytest.mark.parametrize("language", ["english", "xx", "e"])
def test_language_must_be_iso_639_1(language):
    assert refusal(ingest_document(language=language)) == [
        f"language: '{language}' is not an ISO 639-1 language code (e.g. en, de)."
    ]


@pytest.mark.parametrize(
    ("price", "message"),
    [
        ("abc", "A valid number is required."),
        ("-1.00", "Ensure this value is greater than or equal to 0."),
        ("29.999", "Ensure that there are no more than 2 decimal places."),
    ],
)
def test_unit_price_must_be_a_decimal_of_cents(price, message):
    document = ingest_document(lines=[line(unit_price=price)])

    assert refusal(document) == [f"lines[0].unit_price: {message}"]


def test_config_values_must_be_strings():
    document = ingest_document(lines=[line(config={"size": ["45"]})])

    assert refusal(document) == ["lines[0].config.size: Not a valid string."]


def test_order_needs_at_least_one_line():
    assert refusal(ingest_document(lines=[])) == [
        "lines: Ensure this field has at least 1 elements."
    ]


@pytest.mark.parametrize(
    "missing",
    ["reference", "currency", "customer", "shipping_address", "lines"],
)
def test_required_top_level_fields(missing):
    assert refusal(ingest_document(**{missing: None})) == [f"{missing}: This field is required."]


@pytest.mark.parametrize("path", ["customer.first_name", "customer.last_name", "customer.email"])
def test_required_customer_fields(path):
    key = path.split(".")[1]

    assert refusal(ingest_document(customer={key: None})) == [f"{path}: This field is required."]


@pytest.mark.parametrize("key", ["street", "street_number", "city", "postcode"])
def test_required_address_fields(key):
    assert refusal(ingest_document(shipping_address={key: None})) == [
        f"shipping_address.{key}: This field is required."
    ]


def test_ordered_at_must_be_iso_8601():
    assert refusal(ingest_document(ordered_at="20/11/2026")) == [
        "ordered_at: Datetime has wrong format. Use one of these formats instead: "
        "YYYY-MM-DDThh:mm[:ss[.uuuuuu]][+HH:MM|-HH:MM|Z]."
    ]


def test_every_shape_problem_is_reported_at_once():
    document = ingest_document(
        customer={"email": "nope"},
        lines=[line(quantity=0), line(sku="")],
    )

    assert refusal(document) == [
        "customer.email: Enter a valid email address.",
        "lines[0].quantity: Ensure this value is greater than or equal to 1.",
        "lines[1].sku: This field may not be blank.",
    ]


def test_every_business_rule_problem_is_reported_at_once():
    document = ingest_document(
        currency="ZZZ",
        shipping_address={"state": "NSW"},
        lines=[line(), line(sku="caseable/HC12 PXX")],
    )

    assert refusal(document) == [
        "currency: 'ZZZ' is not an ISO 4217 currency code (e.g. EUR, USD, GBP).",
        "shipping_address.state: 'NSW' is not an ISO 3166-2 subdivision of US "
        "(use the code without the country prefix, e.g. WA, QC, NSW).",
        "lines[1].sku: 'caseable/HC12 PXX' is not a SKU of the form vendor/code without spaces.",
    ]


def test_business_rules_are_checked_once_the_shape_is_right():
    """Two passes: the document's shape and types first, then the models' own rules."""
    document = ingest_document(currency="ZZZ", customer={"email": "nope"})

    assert refusal(document) == ["customer.email: Enter a valid email address."]


@pytest.mark.parametrize(
    ("document", "kind"), [([1, 2], "list"), ("Order74927943", "str"), (42, "int")]
)
def test_a_document_that_is_not_an_object_is_refused(document, kind):
    result = ingest(document)

    assert result.outcome == IngestOutcome.REFUSED
    assert result.reference == "(no reference)"
    assert result.errors == [
        f"non_field_errors: Invalid data. Expected a dictionary, but got {kind}."
    ]
