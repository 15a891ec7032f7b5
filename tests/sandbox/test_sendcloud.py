"""The fake Sendcloud: all-or-nothing batches with JSON:API errors, upsert, cursor pages."""

import base64
import copy
import re

import pytest

from sandbox import selectors

pytestmark = pytest.mark.django_db

# The spec's create example.
SPEC_ORDER = {
    "order_id": "555413",
    "order_number": "OXSDFGHTD-12",
    "order_details": {
        "integration": {"id": 7},
        "status": {"code": "fulfilled", "message": "Fulfilled"},
        "order_created_at": "2018-02-27T10:00:00.555Z",
        "order_updated_at": "2018-02-28T11:05:15.634Z",
        "order_items": [
            {"name": "Orange", "quantity": 1, "total_price": {"value": 3.5, "currency": "EUR"}}
        ],
    },
    "payment_details": {
        "total_price": {"value": 3.5, "currency": "EUR"},
        "status": {"code": "paid", "message": "Paid"},
    },
    "shipping_address": {
        "name": "John Doe",
        "address_line_1": "Stadhuisplein",
        "house_number": "15",
        "postal_code": "5341AB",
        "city": "Oss",
        "country_code": "NL",
        "phone_number": "0612345678",
    },
}


def order(order_id="555413", **changes):
    result = copy.deepcopy(SPEC_ORDER)
    result.update({"order_id": order_id, "order_number": f"N-{order_id}", **changes})
    return result


def test_the_spec_example_is_created(sendcloud):
    response = sendcloud.post("/orders/", [SPEC_ORDER])

    assert response.status_code == 201
    [created] = response.json()["data"]
    assert created["order_id"] == "555413" and created["order_number"] == "OXSDFGHTD-12"
    assert created["id"].isdigit()


def test_a_repeat_updates_the_same_order_and_answers_the_same_id(sendcloud):
    first = sendcloud.post("/orders/", [SPEC_ORDER]).json()["data"][0]["id"]
    moved = order("555413", order_number="OXSDFGHTD-12")
    moved["shipping_address"]["city"] = "Eindhoven"

    second = sendcloud.post("/orders/", [moved]).json()["data"][0]["id"]

    assert second == first
    [stored] = selectors.sendcloud_orders("555413")
    assert stored.payload["shipping_address"]["city"] == "Eindhoven"
    assert sendcloud.get(f"/orders/{first}").json()["data"]["shipping_address"]["city"] == (
        "Eindhoven"
    )


def test_one_invalid_order_refuses_the_whole_batch_with_a_pointer(sendcloud):
    bad_country = order("2")
    bad_country["shipping_address"]["country_code"] = "Netherlands"
    bad_currency = order("3")
    bad_currency["order_details"]["order_items"][0]["total_price"]["currency"] = "CHF"
    no_id = order("4")
    del no_id["order_id"]

    response = sendcloud.post("/orders/", [order("1"), bad_country, bad_currency, no_id])

    assert response.status_code == 400
    assert response.json() == {
        "errors": [
            {
                "status": "400",
                "code": "invalid",
                "title": "Bad Request",
                "detail": "'Netherlands' is not an ISO 3166-1 alpha-2 country code",
                "source": {"pointer": "/1/shipping_address/country_code"},
            },
            {
                "status": "400",
                "code": "invalid",
                "title": "Bad Request",
                "detail": "currency 'CHF' is not supported; use one of EUR, GBP, USD",
                "source": {"pointer": "/2/order_details/order_items/0/total_price/currency"},
            },
            {
                "status": "400",
                "code": "required",
                "title": "Bad Request",
                "detail": "order_id is required",
                "source": {"pointer": "/3/order_id"},
            },
        ]
    }
    assert selectors.sendcloud_orders().count() == 0


REMOVED = object()


@pytest.mark.parametrize(
    ("keys", "value"),
    [
        (("order_details", "integration", "id"), 8),
        (("order_details", "order_created_at"), "27-02-2018"),
        (("payment_details", "total_price", "value"), "3.50"),
        (("order_details", "order_items", 0, "quantity"), 0),
        (("shipping_address",), REMOVED),
    ],
)
def test_field_problems_point_at_the_field(sendcloud, keys, value):
    bad = order("1")
    holder = bad
    for key in keys[:-1]:
        holder = holder[key]
    if value is REMOVED:
        del holder[keys[-1]]
    else:
        holder[keys[-1]] = value

    response = sendcloud.post("/orders/", [bad])

    assert response.status_code == 400
    pointers = [error["source"]["pointer"] for error in response.json()["errors"]]
    assert pointers == ["/0/" + "/".join(str(key) for key in keys)]


def test_the_update_examples_order_date_is_accepted(sendcloud):
    updated = order("1")
    details = updated["order_details"]
    details["order_date"] = details.pop("order_created_at")

    assert sendcloud.post("/orders/", [updated]).status_code == 201


def test_more_than_100_orders_are_refused(sendcloud):
    response = sendcloud.post("/orders/", [order(str(n)) for n in range(101)])

    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == "at most 100 orders per request, got 101"


def test_a_body_that_is_not_a_list_or_not_json_is_refused(sendcloud):
    assert sendcloud.post("/orders/", SPEC_ORDER).json()["errors"][0]["detail"] == (
        "the body must be a list of orders"
    )
    response = sendcloud.post("/orders/", raw="[{")
    assert response.status_code == 400
    assert response.json()["errors"][0]["detail"] == "The request body is not valid JSON"


def test_wrong_credentials_answer_401_in_json_api_shape(sendcloud):
    wrong = "Basic " + base64.b64encode(b"sandbox-public:nope").decode()

    response = sendcloud.post("/orders/", [SPEC_ORDER], authorization=wrong)

    assert response.status_code == 401
    assert response.json() == {
        "errors": [
            {
                "status": "401",
                "code": "unauthorized",
                "title": "Unauthorized",
                "detail": "Invalid or missing credentials",
            }
        ]
    }


def every_page(sendcloud, path):
    """The order_ids of each page, following the Link header (rel="next") to the end."""
    seen = []
    while path:
        response = sendcloud.get(path)
        assert response.status_code == 200
        seen.append([item["order_id"] for item in response.json()["data"]])
        link = response.headers.get("Link")
        path = None
        if link:
            url = re.fullmatch(r'<(?P<url>[^>]+)>; rel="next"', link)["url"]
            assert url.startswith("http://testserver/sandbox/sendcloud/api/v3/orders/?")
            path = url.removeprefix("http://testserver/sandbox/sendcloud/api/v3")
    return seen


def five_orders_and_one_of_integration_8(sendcloud, settings):
    sendcloud.post("/orders/", [order(str(n)) for n in range(5)])
    settings.SENDCLOUD_INTEGRATION_ID = 8
    other = order("other")
    other["order_details"]["integration"]["id"] = 8
    sendcloud.post("/orders/", [other])


def test_the_list_is_filtered_by_integration_and_paged_with_a_cursor(sendcloud, settings):
    five_orders_and_one_of_integration_8(sendcloud, settings)

    seen = every_page(sendcloud, "/orders/?integration=7&page_size=2")

    assert seen == [["0", "1"], ["2", "3"], ["4"]]
    assert every_page(sendcloud, "/orders/?integration=7&order_id=3") == [["3"]]


def test_ignoring_list_filters_keeps_only_the_documented_integration_filter(
    sendcloud, settings, control
):
    five_orders_and_one_of_integration_8(sendcloud, settings)
    control.post("/faults", {"ignore_list_filters": True})

    seen = every_page(sendcloud, "/orders/?integration=7&order_id=3&order_number=X&page_size=2")

    assert seen == [["0", "1"], ["2", "3"], ["4"]]


def test_listed_orders_carry_creation_and_modification_times(sendcloud):
    sendcloud.post("/orders/", [SPEC_ORDER])

    [listed] = sendcloud.get("/orders/?integration=7").json()["data"]

    assert listed["order_details"] == SPEC_ORDER["order_details"]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", listed["created_at"])
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", listed["modified_at"])


def test_a_bad_cursor_and_an_unknown_order_are_refused(sendcloud):
    assert sendcloud.get("/orders/?cursor=garbage").status_code == 400
    assert sendcloud.get("/orders/12345").status_code == 404
    assert sendcloud.get("/orders/abc").json()["errors"][0]["code"] == "not_found"
