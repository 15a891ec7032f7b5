"""The fake Shipup: the spec's error shape exactly, and the upsert by merchant_id and
tracking_number."""

import copy
import json

import pytest

from sandbox import selectors
from sandbox.models import SandboxShipupOrder

pytestmark = pytest.mark.django_db

# The spec's valid example.
VALID = {
    "merchant_id": "O_MER_TEST5",
    "order_number": "O_N_TEST5",
    "fulfillments": [
        {
            "merchant_id": "MY_FULFILLMENT_ID",
            "shipping_address": {
                "address1": "123 road street",
                "city": "City",
                "zip": "12345",
                "country": "Country",
            },
            "warehouse_merchant_id": "location_1",
            "trackers": [
                {
                    "tracking_number": "1231121212",
                    "line_items": [
                        {
                            "merchant_id": "MY_SHIPPED_PRODUCT_ID_1",
                            "description": "Product Description",
                            "title": "Product name",
                        }
                    ],
                },
                {
                    "tracking_number": "12341121212",
                    "line_items": [
                        {
                            "merchant_id": "MY_SHIPPED_PRODUCT_ID_2",
                            "title": "Product name 2",
                            "variant_title": "Product variant name (Blue)",
                        }
                    ],
                },
            ],
            "line_items": [{"merchant_id": "MY_UNSHIPPED_PRODUCT_ID"}],
        }
    ],
}

# The spec's invalid example and the 400 body it answers.
INVALID = {
    "merchant_id": "O_MER_TEST5",
    "order_number": "O_N_TEST5",
    "fulfillments": [
        {
            "merchant_id": "MY_FULFILLMENT_ID",
            "shipping_address": {
                "address1": "123 road street",
                "city": "City",
                "zip": "12345",
                "country": {},
            },
            "trackers": [
                {
                    "tracking_number": "1231121212",
                    "line_items": [
                        {
                            "merchant_id": "MY_SHIPPED_PRODUCT_ID_1",
                            "description": "Product Description",
                            "title": "Product name",
                        }
                    ],
                },
                {
                    "tracking_number": True,
                    "line_items": [
                        {
                            "title": "Product name 2",
                            "variant_title": "Product variant name (Blue)",
                        }
                    ],
                },
            ],
            "line_items": [{"merchant_id": "MY_UNSHIPPED_PRODUCT_ID", "canceled": "true"}],
        }
    ],
}
SPEC_ERROR_BODY = """{
"errors": {
"fulfillments": {
"0": {
"country": "Wrong data type: given, Hash ({}) expected: String",
"trackers": {
"1": {
"tracking_number": "Wrong data type: given, TrueClass (true) expected: String or Numeric",
"line_items": {
"0": {
"merchant_id": "Required"
}
}
}
},
"line_items": {
"0": {
"canceled": "Wrong data type: given, String (true) expected: TrueClass or FalseClass"
}
}
}
}
}
}"""


def test_the_specs_valid_example_is_created(shipup):
    response = shipup.post("/v2/orders", VALID)

    assert response.status_code == 201
    answer = response.json()
    assert answer["merchant_id"] == "O_MER_TEST5"
    assert answer["fulfillments"] == VALID["fulfillments"]


def test_the_specs_invalid_example_answers_exactly_the_specs_error_body(shipup):
    response = shipup.post("/v2/orders", INVALID)

    assert response.status_code == 400
    # Same keys, values and even key order as the spec's body.
    assert json.dumps(response.json()) == json.dumps(json.loads(SPEC_ERROR_BODY))
    assert SandboxShipupOrder.objects.count() == 0


@pytest.mark.parametrize(
    ("payload", "errors"),
    [
        ({"order_number": "X"}, {"merchant_id": "Required"}),
        (
            {"merchant_id": 42, "mute_notifications": "no"},
            {
                "merchant_id": "Wrong data type: given, Integer (42) expected: String",
                "mute_notifications": (
                    "Wrong data type: given, String (no) expected: TrueClass or FalseClass"
                ),
            },
        ),
        (
            {"merchant_id": "M", "fulfillments": {"merchant_id": "F"}},
            {"fulfillments": 'Wrong data type: given, Hash ({"merchant_id"=>"F"}) expected: Array'},
        ),
        (
            {"merchant_id": "M", "fulfillments": [{"merchant_id": "F", "trackers": [{}]}]},
            {"fulfillments": {"0": {"trackers": {"0": {"tracking_number": "Required"}}}}},
        ),
        (
            {"merchant_id": "M", "line_items": [{"merchant_id": "L", "quantity": 1.5}]},
            {
                "line_items": {
                    "0": {"quantity": "Wrong data type: given, Float (1.5) expected: Integer"}
                }
            },
        ),
        (
            {"merchant_id": "M", "fulfillments": [{"merchant_id": "F", "status_code": "lost"}]},
            {
                "fulfillments": {
                    "0": {
                        "status_code": "Wrong value: given, lost expected: one of pending, "
                        "in_production, in_transit_to_stock, preparing_shipment, shipped, "
                        "delayed, production_delay, transit_to_stock_delay, "
                        "partially_shipped, blocked, canceled"
                    }
                }
            },
        ),
    ],
)
def test_type_problems_are_nested_like_the_request(shipup, payload, errors):
    response = shipup.post("/v2/orders", payload)

    assert response.status_code == 400
    assert response.json() == {"errors": errors}


def test_numeric_tracking_numbers_are_accepted(shipup):
    payload = {
        "merchant_id": "M",
        "fulfillments": [{"merchant_id": "F", "trackers": [{"tracking_number": 1231121212}]}],
    }

    assert shipup.post("/v2/orders", payload).status_code == 201


def test_a_repeat_updates_the_order_and_merges_fulfillments_and_trackers(shipup):
    shipup.post("/v2/orders", VALID)
    update = {
        "merchant_id": "O_MER_TEST5",
        "canceled": True,
        "fulfillments": [
            {
                "merchant_id": "MY_FULFILLMENT_ID",
                "status_code": "shipped",
                "trackers": [
                    {"tracking_number": "1231121212", "carrier_code": "dhl"},
                    {"tracking_number": "999", "line_items": [{"merchant_id": "NEW"}]},
                ],
            },
            {"merchant_id": "SECOND_FULFILLMENT"},
        ],
    }

    response = shipup.post("/v2/orders", update)

    assert response.status_code == 201
    stored = selectors.shipup_order("O_MER_TEST5")
    assert SandboxShipupOrder.objects.count() == 1
    assert stored["canceled"] is True and stored["order_number"] == "O_N_TEST5"
    first, second = stored["fulfillments"]
    assert first["status_code"] == "shipped"
    assert first["warehouse_merchant_id"] == "location_1"
    assert [t["tracking_number"] for t in first["trackers"]] == ["1231121212", "12341121212", "999"]
    assert first["trackers"][0]["carrier_code"] == "dhl"
    assert (
        first["trackers"][0]["line_items"] == VALID["fulfillments"][0]["trackers"][0]["line_items"]
    )
    assert second == {"merchant_id": "SECOND_FULFILLMENT"}


def test_posting_the_same_payload_twice_changes_nothing(shipup):
    first = shipup.post("/v2/orders", VALID).json()
    second = shipup.post("/v2/orders", copy.deepcopy(VALID)).json()

    assert second == first


@pytest.mark.parametrize("authorization", ["", "Bearer wrong", "Basic c2FuZGJveA=="])
def test_a_wrong_or_missing_bearer_key_is_refused(shipup, authorization):
    response = shipup.post("/v2/orders", VALID, authorization=authorization or "Bearer ")

    assert response.status_code == 401
    assert response.json() == {"errors": {"authorization": "Invalid or missing API key"}}
