"""Format rules of each provider and the choices specs/README.md settles."""

import ast
import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path

import pytest

from core.actors import Actor
from integrations.errors import ProviderBadAnswer, ProviderValidationError
from integrations.http import encode_json, to_wire
from integrations.reevoo.mapping import (
    customer_order_payload,
    metadata_key,
    parse_submission,
    reevoo_date,
    reevoo_price,
    validate_trkref,
)
from integrations.sendcloud.mapping import iso_millis
from integrations.sendcloud.mapping import order_payload as sendcloud_order_payload
from integrations.shipup.mapping import order_payload as shipup_order_payload
from integrations.thirtyfiveup.mapping import (
    from_epoch_seconds,
    order_status_payload,
    parse_record,
    place_order_payload,
    return_request_payload,
    return_status_payload,
)
from orders.services import apply_reported_status, request_transition
from tests.factories import (
    OrderFactory,
    OrderLineFactory,
    ShipmentFactory,
    ShipmentLineFactory,
    UserFactory,
    order_in_status,
)

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("provider_settings")]
INTEGRATIONS = Path(__file__).resolve().parents[2] / "integrations"


# --- 35up ------------------------------------------------------------------------------------


def test_35up_answer_times_are_epoch_second_strings_read_as_aware_utc():
    record = parse_record(
        {
            "id": "42CA346434",
            "status": "Approved",
            "updatedAt": "1603375967",
            "createdAt": "1603375900",
        }
    )

    assert record.updated_at == datetime(2020, 10, 22, 14, 12, 47, tzinfo=UTC)
    assert record.created_at == datetime(2020, 10, 22, 14, 11, 40, tzinfo=UTC)
    assert record.status == "approved"


@pytest.mark.parametrize("value", ["2020-10-22T14:12:47Z", "16033759.67", "", True])
def test_35up_times_other_than_epoch_seconds_are_refused(value):
    with pytest.raises(ProviderBadAnswer):
        from_epoch_seconds(value)


def test_35up_answer_item_ids_are_read_by_sku():
    record = parse_record(
        {
            "id": "A1",
            "status": "pending",
            "updatedAt": "1603375967",
            "createdAt": "1603375967",
            "items": [{"itemId": "412412", "sku": "vendor_id/FEI60XX114014XXAPIP80", "qty": 2}],
        }
    )

    assert record.item_ids == {"vendor_id/FEI60XX114014XXAPIP80": "412412"}


def test_35up_leaves_out_empty_optional_fields():
    order = OrderFactory(
        session="", phone="", shipping_phone="", shipping_company="", shipping_extra=""
    )
    OrderLineFactory(order=order, config={})
    OrderFactory._meta.model.objects.filter(pk=order.pk).update(
        shipping_country="DE", shipping_state=""
    )
    order.refresh_from_db()

    payload = place_order_payload(order)

    assert "session" not in payload
    assert "phone" not in payload["customer"]
    assert set(payload["shippingAddress"]) == {
        "firstName",
        "lastName",
        "email",
        "street",
        "streetNumber",
        "city",
        "postcode",
        "country",
    }
    assert payload["items"][0].keys() == {"sku", "qty"}


@pytest.mark.parametrize(("country", "state"), [("US", "WA"), ("CA", "QC"), ("AU", "NSW")])
def test_35up_state_is_the_subdivision_code_without_country_prefix(country, state):
    order = OrderFactory(shipping_country=country, shipping_state=state)
    OrderLineFactory(order=order)

    assert place_order_payload(order)["shippingAddress"]["state"] == state


def test_35up_shipping_contact_is_sent_even_when_it_differs_from_the_customer():
    order = OrderFactory(shipping_first_name="Mary", shipping_email="mary@nile.example")
    OrderLineFactory(order=order)

    address = place_order_payload(order)["shippingAddress"]

    assert (address["firstName"], address["email"]) == ("Mary", "mary@nile.example")


def test_35up_order_without_lines_is_refused_before_sending():
    with pytest.raises(ProviderValidationError):
        place_order_payload(OrderFactory())


@pytest.mark.parametrize("status", ["processing", "fulfilled", "closed", "Approved"])
def test_35up_status_update_accepts_pending_approved_cancelled_only(status):
    with pytest.raises(ProviderValidationError):
        order_status_payload(status)


def test_35up_status_update_without_message_sends_the_status_alone():
    assert order_status_payload("cancelled") == {"status": "cancelled"}


def test_35up_return_needs_the_item_id_35up_reported():
    line = OrderLineFactory(thirtyfiveup_item_id="")

    with pytest.raises(ProviderValidationError) as raised:
        return_request_payload("42346434", [(line, 1)])

    assert raised.value.details == [
        f"{line.sku}: 35up has not reported the item id of this line yet."
    ]


def test_35up_return_quantity_cannot_exceed_the_line():
    line = OrderLineFactory(quantity=2, thirtyfiveup_item_id="412412")

    with pytest.raises(ProviderValidationError):
        return_request_payload("42346434", [(line, 3)])


def test_35up_return_status_is_one_the_shop_may_set():
    assert return_status_payload("seller_shipped") == {"status": "seller_shipped"}
    with pytest.raises(ProviderValidationError):
        return_status_payload("refunded")


# --- Sendcloud -------------------------------------------------------------------------------


def test_sendcloud_times_are_utc_with_milliseconds_and_z():
    cest = timezone(timedelta(hours=2))

    assert iso_millis(datetime(2018, 2, 27, 12, 0, 0, 555123, tzinfo=cest)) == (
        "2018-02-27T10:00:00.555Z"
    )
    assert iso_millis(datetime(2018, 2, 27, 10, 0, tzinfo=UTC)) == "2018-02-27T10:00:00.000Z"


@pytest.mark.parametrize("currency", ["CHF", "SEK", "JPY"])
def test_sendcloud_refuses_currencies_other_than_eur_gbp_usd_before_sending(currency):
    order = OrderFactory(currency=currency)
    OrderLineFactory(order=order)

    with pytest.raises(ProviderValidationError) as raised:
        sendcloud_order_payload(order, integration_id=7)

    assert raised.value.details == [
        f"currency: Sendcloud accepts EUR, GBP, USD only, not {currency}."
    ]


def test_sendcloud_money_is_decimal_in_our_payload_and_a_json_number_on_the_wire():
    order = OrderFactory(currency="USD")
    OrderLineFactory(order=order, quantity=3, unit_price=Decimal("29.99"))
    OrderLineFactory(order=order, quantity=1, unit_price=Decimal("0.10"))

    payload = sendcloud_order_payload(order, integration_id=7)
    wire = json.loads(encode_json(payload))

    assert payload["payment_details"]["total_price"]["value"] == Decimal("90.07")
    assert isinstance(payload["order_details"]["order_items"][0]["total_price"]["value"], Decimal)
    assert wire["payment_details"]["total_price"]["value"] == 90.07
    assert b'"value":89.97' in encode_json(payload)


def test_a_decimal_a_json_number_cannot_carry_exactly_is_refused():
    with pytest.raises(ValueError):
        to_wire({"value": Decimal("12345678901234567.01")})


def test_sendcloud_order_id_is_our_key_and_order_number_the_reference():
    order = order_in_status("approved", reference="SHOP-1001")

    payload = sendcloud_order_payload(order, integration_id=7)

    assert payload["order_id"] == str(order.pk)
    assert payload["order_number"] == "SHOP-1001"
    assert payload["order_details"]["status"] == {"code": "approved", "message": "Approved"}
    assert payload["payment_details"]["status"] == {"code": "paid", "message": "Paid"}


def test_sendcloud_address_carries_company_second_line_and_state_when_present():
    order = order_in_status("approved")

    address = sendcloud_order_payload(order, integration_id=7)["shipping_address"]

    assert address["company_name"] == "Nile"
    assert address["address_line_2"] == "Top Floor"
    assert address["state_province_code"] == "WA"
    assert address["country_code"] == "US"


def test_no_float_is_written_in_mapping_code():
    """Money stays Decimal in our code: no mapping module converts to float."""
    for path in INTEGRATIONS.glob("*/mapping.py"):
        tree = ast.parse(path.read_text())
        calls = [
            node
            for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "float"
        ]
        assert calls == [], path


# --- Shipup ----------------------------------------------------------------------------------


def test_shipup_merchant_ids_are_stable_across_resends():
    order = order_in_status("approved")
    line = order.lines.get()
    shipment = ShipmentFactory(order=order)
    ShipmentLineFactory(shipment=shipment, order_line=line, quantity=1)

    first = shipup_order_payload(order)
    second = shipup_order_payload(order)

    assert first == second
    assert first["merchant_id"] == f"order-{order.pk}"
    assert first["fulfillments"][0]["merchant_id"] == f"shipment-{shipment.pk}"
    tracker_line = first["fulfillments"][0]["trackers"][0]["line_items"][0]
    assert tracker_line == {
        "merchant_id": f"line-{line.pk}",
        "title": line.name,
        "sku": line.sku,
        "quantity": 2,
        "shipped_quantity": 1,
    }
    assert first["line_items"] == []


def test_shipup_fulfillments_are_numbered_after_the_reference():
    order = order_in_status("fulfilled", reference="ABCD")
    line = order.lines.get()
    for day in (1, 2):
        ShipmentLineFactory(
            shipment=ShipmentFactory(order=order, shipped_at=datetime(2026, 1, day, tzinfo=UTC)),
            order_line=line,
            quantity=1,
        )

    fulfillments = shipup_order_payload(order)["fulfillments"]

    assert [f["fulfillment_number"] for f in fulfillments] == ["ABCD_1", "ABCD_2"]
    assert {f["status_code"] for f in fulfillments} == {"shipped"}


@pytest.mark.parametrize(("country", "state", "sent"), [("CA", "QC", "QC"), ("AU", "NSW", None)])
def test_shipup_state_code_is_sent_for_us_and_canada_only(country, state, sent):
    order = OrderFactory(shipping_country=country, shipping_state=state)

    assert shipup_order_payload(order)["shipping_address"].get("state_code") == sent


def test_shipup_iso_8601_order_time():
    order = OrderFactory(ordered_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC))

    assert shipup_order_payload(order)["ordered_at"] == "2026-11-20T10:00:00Z"


def test_shipup_canceled_follows_the_35up_cancellation():
    support = UserFactory(groups=["support"])
    order = order_in_status("approved")
    request_transition(order_id=order.pk, action="cancel", actor=Actor.staff(support))
    order.refresh_from_db()
    assert shipup_order_payload(order)["canceled"] is False  # pending_cancellation may still ship

    apply_reported_status(order_id=order.pk, status="cancelled")
    order.refresh_from_db()
    assert shipup_order_payload(order)["canceled"] is True

    apply_reported_status(order_id=order.pk, status="closed")
    order.refresh_from_db()
    assert shipup_order_payload(order)["canceled"] is True


def test_shipup_an_order_closed_after_delivery_is_not_canceled():
    order = order_in_status("delivered")
    apply_reported_status(order_id=order.pk, status="closed")
    order.refresh_from_db()

    assert shipup_order_payload(order)["canceled"] is False


# --- Reevoo ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [("55.99", "55,99"), ("10.00", "10"), ("10", "10"), ("10.50", "10,50"), ("0.05", "0,05")],
)
def test_reevoo_prices_use_a_decimal_comma(amount, text):
    assert reevoo_price(Decimal(amount)) == text


def test_reevoo_dates_are_dd_mm_yyyy_in_utc():
    assert reevoo_date(datetime(2014, 12, 24, 23, 30, tzinfo=timezone(timedelta(hours=-2)))) == (
        "25-12-2014"
    )


@pytest.mark.parametrize("trkref", ["ABC", "ABC-XYZ", "TRKREF123"])
def test_reevoo_accepts_capital_trkrefs_with_digits(trkref):
    assert validate_trkref(trkref) == trkref


@pytest.mark.parametrize("trkref", ["abc", "ABC-", "-ABC", "AB C", "ABC--XYZ", ""])
def test_reevoo_refuses_other_trkrefs(trkref):
    with pytest.raises(ProviderValidationError):
        validate_trkref(trkref)


@pytest.mark.parametrize(
    ("key", "normalised"),
    [
        ("field_1", "field_1"),
        ("Field 1", "field_1"),
        ("colour-name", "colour_name"),
        ("size", "size"),
    ],
)
def test_reevoo_metadata_keys_are_normalised(key, normalised):
    assert metadata_key(key) == normalised


def test_reevoo_before_any_shipment_sends_the_order_date_only():
    order = OrderFactory(shipping_country="DE", shipping_state="", language="de")
    OrderLineFactory(order=order)

    payload = customer_order_payload(order, trkref="ABC")

    assert "fulfilment_date" not in payload
    assert payload["locale"] == "de-DE"
    assert payload["customer"]["country"] == "DE"


def test_reevoo_answer_needs_a_uuid():
    answer = {"status": "accepted", "id": "0B8A4E1C-2F7A-4D3E-9A55-6C1F0E2D9B41", "message": "ok"}

    assert parse_submission(answer).id == "0b8a4e1c-2f7a-4d3e-9a55-6c1f0e2d9b41"
    with pytest.raises(ProviderBadAnswer):
        parse_submission({"status": "accepted", "id": "1122"})
