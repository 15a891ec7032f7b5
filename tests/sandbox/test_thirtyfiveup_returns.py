"""The fake 35up returns: items must come from the order, quantities within what was ordered."""

import pytest

from sandbox.models import SandboxReturn

from .test_thirtyfiveup_orders import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def fulfilled_order(thirtyfiveup, control):
    order_id = place(thirtyfiveup)["id"]
    control.post(f"/35up/orders/{order_id}/advance", {"status": "fulfilled"})
    return thirtyfiveup.get(f"/orders/{order_id}").json()


def return_body(order, *quantities):
    return {
        "orderId": order["id"],
        "items": [
            {"itemId": item["itemId"], "sku": item["sku"], "quantity": quantity}
            for item, quantity in zip(order["items"], quantities, strict=False)
            if quantity
        ],
    }


def test_a_return_is_created_for_items_of_a_fulfilled_order(thirtyfiveup, fulfilled_order):
    response = thirtyfiveup.post("/returns", return_body(fulfilled_order, 2, 1))

    assert response.status_code == 201
    answer = response.json()
    assert answer["status"] == "created"
    assert answer["orderId"] == fulfilled_order["id"]
    assert answer["createdAt"].isdigit()
    assert answer["items"] == return_body(fulfilled_order, 2, 1)["items"]
    assert thirtyfiveup.get(f"/returns/{answer['id']}").json() == answer


def test_items_not_in_the_order_and_wrong_skus_are_refused(thirtyfiveup, fulfilled_order):
    first = fulfilled_order["items"][0]
    body = {
        "orderId": fulfilled_order["id"],
        "items": [
            {"itemId": "999", "sku": first["sku"], "quantity": 1},
            {"itemId": first["itemId"], "sku": "caseable/OTHER", "quantity": 1},
        ],
    }

    response = thirtyfiveup.post("/returns", body)

    assert response.status_code == 400
    assert response.json() == {
        "errors": {
            "items": {
                "0": {"itemId": f"no item 999 in order {fulfilled_order['id']}"},
                "1": {"sku": f"item {first['itemId']} is {first['sku']}"},
            }
        }
    }
    assert SandboxReturn.objects.count() == 0


def test_more_than_was_ordered_is_refused_counting_earlier_returns(thirtyfiveup, fulfilled_order):
    item = fulfilled_order["items"][0]
    assert thirtyfiveup.post("/returns", return_body(fulfilled_order, 1)).status_code == 201

    response = thirtyfiveup.post("/returns", return_body(fulfilled_order, 2))

    assert response.status_code == 400
    assert response.json() == {
        "errors": {
            "items": {
                "0": {"quantity": f"only 1 of item {item['itemId']} can be returned (2 ordered)"}
            }
        }
    }


def test_a_cancelled_return_gives_its_items_back(thirtyfiveup, fulfilled_order):
    first = thirtyfiveup.post("/returns", return_body(fulfilled_order, 2)).json()
    thirtyfiveup.patch(f"/returns/{first['id']}", {"status": "cancelled"})

    assert thirtyfiveup.post("/returns", return_body(fulfilled_order, 2)).status_code == 201


def test_orders_not_yet_fulfilled_cannot_be_returned(thirtyfiveup):
    order = place(thirtyfiveup)
    order = thirtyfiveup.get(f"/orders/{order['id']}").json()

    response = thirtyfiveup.post("/returns", return_body(order, 1))

    assert response.status_code == 400
    assert response.json()["errors"]["orderId"] == (
        f"order {order['id']} is pending; only fulfilled or delivered orders can be returned"
    )


def test_a_return_needs_an_order_and_items(thirtyfiveup):
    response = thirtyfiveup.post("/returns", {"orderId": "NOPE", "items": []})

    assert response.status_code == 400
    assert response.json() == {
        "errors": {"orderId": "no order with id NOPE", "items": "at least one item is required"}
    }


@pytest.mark.parametrize(
    ("path", "result"),
    [
        (["cancelled"], "cancelled"),
        (["awaiting_return", "seller_received", "seller_shipped"], "seller_shipped"),
        (["awaiting_return", "customer_shipped"], "customer_shipped"),
    ],
)
def test_the_shop_sets_the_statuses_it_may_set(
    thirtyfiveup, control, fulfilled_order, path, result
):
    return_id = thirtyfiveup.post("/returns", return_body(fulfilled_order, 1)).json()["id"]
    for status in path:
        if status == "awaiting_return":
            control.post(f"/35up/returns/{return_id}/advance")
            continue
        response = thirtyfiveup.patch(f"/returns/{return_id}", {"status": status})
        assert response.status_code == 200, response.json()

    assert thirtyfiveup.get(f"/returns/{return_id}").json()["status"] == result


@pytest.mark.parametrize(
    ("status", "error"),
    [
        ("refunded", "must be one of cancelled, seller_received, seller_shipped, customer_shipped"),
        ("seller_shipped", "a return that is created cannot be seller_shipped"),
    ],
)
def test_other_return_statuses_are_refused(thirtyfiveup, fulfilled_order, status, error):
    return_id = thirtyfiveup.post("/returns", return_body(fulfilled_order, 1)).json()["id"]

    response = thirtyfiveup.patch(f"/returns/{return_id}", {"status": status})

    assert response.status_code == 400
    assert response.json() == {"errors": {"status": error}}


def test_the_control_endpoint_walks_a_return_to_closed(thirtyfiveup, control, fulfilled_order):
    return_id = thirtyfiveup.post("/returns", return_body(fulfilled_order, 1)).json()["id"]
    seen = [control.post(f"/35up/returns/{return_id}/advance").json()["status"] for _ in range(6)]

    assert seen == [
        "awaiting_return",
        "customer_shipped",
        "vendor_received",
        "confirmed",
        "awaiting_refund",
        "refunded",
    ]
    assert (
        control.post(f"/35up/returns/{return_id}/advance", {"status": "closed"}).json()["status"]
        == "closed"
    )
    assert control.post(f"/35up/returns/{return_id}/advance").status_code == 409


def test_an_unknown_return_is_404(thirtyfiveup):
    assert thirtyfiveup.get("/returns/NOPE").status_code == 404
