"""The fake 35up returns: items must come from the order, quantities within what was ordered;
shop statuses along the graph; listed with their order; moving on over time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sandbox import selectors
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


def test_a_repeated_shop_status_changes_nothing_and_succeeds(thirtyfiveup, fulfilled_order):
    return_id = thirtyfiveup.post("/returns", return_body(fulfilled_order, 1)).json()["id"]
    first = thirtyfiveup.patch(f"/returns/{return_id}", {"status": "cancelled"})

    again = thirtyfiveup.patch(f"/returns/{return_id}", {"status": "cancelled"})

    assert again.status_code == 200
    assert again.json() == first.json()
    sources = [c.source for c in SandboxReturn.objects.get(public_id=return_id).history.all()]
    assert sources == ["requested", "patch"]


@pytest.mark.parametrize(
    ("path", "status", "error"),
    [
        # Statuses only 35up sets.
        ([], "awaiting_return", "must be one of"),
        ([], "closed", "must be one of"),
        (["awaiting_return"], "vendor_received", "must be one of"),
        # Shop statuses outside the graph.
        ([], "seller_received", "a return that is created cannot be seller_received"),
        ([], "customer_shipped", "a return that is created cannot be customer_shipped"),
        (
            ["customer_shipped"],
            "cancelled",
            "a return that is customer_shipped cannot be cancelled",
        ),
        (["seller_received"], "customer_shipped", "seller_received cannot be customer_shipped"),
        (["vendor_received"], "seller_shipped", "vendor_received cannot be seller_shipped"),
        (["cancelled", "closed"], "cancelled", "a return that is closed cannot be cancelled"),
    ],
)
def test_moves_35up_would_not_make_are_refused_and_change_nothing(
    thirtyfiveup, control, fulfilled_order, path, status, error
):
    return_id = thirtyfiveup.post("/returns", return_body(fulfilled_order, 1)).json()["id"]
    for step in path:
        control.post(f"/35up/returns/{return_id}/advance", {"status": step})
    before = thirtyfiveup.get(f"/returns/{return_id}").json()

    response = thirtyfiveup.patch(f"/returns/{return_id}", {"status": status})

    assert response.status_code == 400
    assert error in response.json()["errors"]["status"]
    assert thirtyfiveup.get(f"/returns/{return_id}").json() == before


def test_a_status_request_needs_a_json_object_and_a_known_return(thirtyfiveup):
    assert thirtyfiveup.patch("/returns/NOPE", {"status": "cancelled"}).status_code == 404
    response = thirtyfiveup.patch("/returns/NOPE", ["cancelled"])
    assert response.status_code == 400
    assert response.json() == {"errors": {"body": "must be a JSON object"}}


def test_one_request_may_not_name_an_item_twice_beyond_what_was_ordered(
    thirtyfiveup, fulfilled_order
):
    item = fulfilled_order["items"][0]
    line = {"itemId": item["itemId"], "sku": item["sku"], "quantity": 1}
    body = {"orderId": fulfilled_order["id"], "items": [line, line, line]}

    response = thirtyfiveup.post("/returns", body)

    assert response.status_code == 400
    assert response.json()["errors"] == {
        "items": {"2": {"quantity": f"only 2 of item {item['itemId']} can be returned (2 ordered)"}}
    }
    assert SandboxReturn.objects.count() == 0


@pytest.mark.parametrize("status", ["awaiting_return", "seller_received", "refunded", "voided"])
def test_open_and_finished_returns_keep_their_items(thirtyfiveup, control, fulfilled_order, status):
    first = thirtyfiveup.post("/returns", return_body(fulfilled_order, 1, 1)).json()["id"]
    control.post(f"/35up/returns/{first}/advance", {"status": status})
    assert thirtyfiveup.post("/returns", return_body(fulfilled_order, 1)).status_code == 201

    response = thirtyfiveup.post("/returns", return_body(fulfilled_order, 1, 1))

    assert response.status_code == 400
    item_ids = [item["itemId"] for item in fulfilled_order["items"]]
    assert response.json()["errors"] == {
        "items": {
            "0": {"quantity": f"only 0 of item {item_ids[0]} can be returned (2 ordered)"},
            "1": {"quantity": f"only 0 of item {item_ids[1]} can be returned (1 ordered)"},
        }
    }


@pytest.mark.parametrize("released", ["cancelled", "rejected", "expired"])
def test_cancelled_rejected_and_expired_returns_give_their_items_back_also_once_closed(
    thirtyfiveup, control, fulfilled_order, released
):
    first = thirtyfiveup.post("/returns", return_body(fulfilled_order, 2, 1)).json()["id"]
    if released == "expired":
        control.post(f"/35up/returns/{first}/advance")
    control.post(f"/35up/returns/{first}/advance", {"status": released})
    second = thirtyfiveup.post("/returns", return_body(fulfilled_order, 2, 1))
    assert second.status_code == 201, second.json()
    thirtyfiveup.patch(f"/returns/{second.json()['id']}", {"status": "cancelled"})

    control.post(f"/35up/returns/{first}/advance", {"status": "closed"})

    assert thirtyfiveup.post("/returns", return_body(fulfilled_order, 2, 1)).status_code == 201


def test_a_closed_return_that_was_refunded_keeps_its_items(thirtyfiveup, control, fulfilled_order):
    first = thirtyfiveup.post("/returns", return_body(fulfilled_order, 2)).json()["id"]
    control.post(f"/35up/returns/{first}/advance", {"status": "refunded"})
    control.post(f"/35up/returns/{first}/advance")

    assert thirtyfiveup.get(f"/returns/{first}").json()["status"] == "closed"
    assert thirtyfiveup.post("/returns", return_body(fulfilled_order, 1)).status_code == 400


def test_a_delivered_order_can_be_returned_a_closed_one_cannot(thirtyfiveup, control):
    order_id = place(thirtyfiveup)["id"]
    control.post(f"/35up/orders/{order_id}/advance", {"status": "delivered"})
    order = thirtyfiveup.get(f"/orders/{order_id}").json()
    assert thirtyfiveup.post("/returns", return_body(order, 1)).status_code == 201

    control.post(f"/35up/orders/{order_id}/advance", {"status": "closed"})

    response = thirtyfiveup.post("/returns", return_body(order, 1))
    assert response.status_code == 400
    assert "is closed" in response.json()["errors"]["orderId"]


def test_every_status_change_of_a_return_is_kept_with_its_source(
    thirtyfiveup, control, fulfilled_order
):
    return_id = thirtyfiveup.post("/returns", return_body(fulfilled_order, 1)).json()["id"]
    control.post(f"/35up/returns/{return_id}/advance")
    thirtyfiveup.patch(f"/returns/{return_id}", {"status": "seller_received"})

    history = SandboxReturn.objects.get(public_id=return_id).history.all()

    assert [(c.from_status, c.to_status, c.source) for c in history] == [
        ("", "created", "requested"),
        ("created", "awaiting_return", "control"),
        ("awaiting_return", "seller_received", "patch"),
    ]
    assert selectors.thirtyfiveup_returns(fulfilled_order["id"]).get().public_id == return_id


# --- the order answer lists its returns -------------------------------------------------------


def test_the_order_answer_lists_its_returns_with_their_items(
    thirtyfiveup, control, fulfilled_order
):
    order_id = fulfilled_order["id"]
    assert fulfilled_order["returns"] == []
    first = thirtyfiveup.post("/returns", return_body(fulfilled_order, 2, 1)).json()
    thirtyfiveup.patch(f"/returns/{first['id']}", {"status": "cancelled"})
    second = thirtyfiveup.post("/returns", return_body(fulfilled_order, 1)).json()

    answer = thirtyfiveup.get(f"/orders/{order_id}").json()

    assert answer["returns"] == [
        {"id": first["id"], "status": "cancelled", "items": first["items"]},
        {"id": second["id"], "status": "created", "items": second["items"]},
    ]
    assert thirtyfiveup.get("/orders").json()[0]["returns"] == answer["returns"]
    assert control.post(f"/35up/orders/{order_id}/advance").json()["returns"] == answer["returns"]


def test_omit_order_returns_leaves_the_key_out_of_every_order_answer(
    thirtyfiveup, control, fulfilled_order
):
    order_id = fulfilled_order["id"]
    thirtyfiveup.post("/returns", return_body(fulfilled_order, 1))

    assert control.post("/faults", {"omit_order_returns": True}).status_code == 200

    assert "returns" not in thirtyfiveup.get(f"/orders/{order_id}").json()
    assert "returns" not in thirtyfiveup.get("/orders").json()[0]
    assert thirtyfiveup.get(f"/orders/{order_id}").json()["items"] == fulfilled_order["items"]
    control.delete("/faults")
    assert len(thirtyfiveup.get(f"/orders/{order_id}").json()["returns"]) == 1


# --- moving on over time ----------------------------------------------------------------------

NATURAL_PATH = [
    "awaiting_return",
    "customer_shipped",
    "vendor_received",
    "confirmed",
    "awaiting_refund",
    "refunded",
    "closed",
]


def test_returns_move_on_when_read_after_the_configured_time(
    thirtyfiveup, fulfilled_order, settings, monkeypatch
):
    settings.SANDBOX_35UP_ADVANCE_SECONDS = 60
    requested_at = timezone.now()
    return_id = thirtyfiveup.post("/returns", return_body(fulfilled_order, 1)).json()["id"]

    def status_after(seconds):
        later = requested_at + timedelta(seconds=seconds + 1)
        monkeypatch.setattr(timezone, "now", lambda: later)
        return thirtyfiveup.get(f"/returns/{return_id}").json()

    assert status_after(30)["status"] == "created"
    assert status_after(60)["status"] == "awaiting_return"
    answer = status_after(200)
    assert answer["status"] == "vendor_received"
    # Each step is stamped when it was due, not when it was noticed.
    created_at = int(answer["createdAt"])
    assert int(answer["updatedAt"]) - created_at == 180
    assert status_after(10_000)["status"] == "closed"
    history = SandboxReturn.objects.get(public_id=return_id).history.all()
    assert [(c.to_status, c.source) for c in history] == [("created", "requested")] + [
        (status, "time") for status in NATURAL_PATH
    ]


def test_with_zero_seconds_a_return_walks_the_natural_path_on_the_next_read(
    thirtyfiveup, fulfilled_order, settings
):
    return_id = thirtyfiveup.post("/returns", return_body(fulfilled_order, 1)).json()["id"]
    settings.SANDBOX_35UP_ADVANCE_SECONDS = 0

    assert thirtyfiveup.get(f"/returns/{return_id}").json()["status"] == "closed"
    history = SandboxReturn.objects.get(public_id=return_id).history.all()
    assert [c.to_status for c in history][1:] == NATURAL_PATH


def test_returns_listed_with_their_order_move_on_too(thirtyfiveup, fulfilled_order, settings):
    return_id = thirtyfiveup.post("/returns", return_body(fulfilled_order, 1)).json()["id"]
    settings.SANDBOX_35UP_ADVANCE_SECONDS = 0

    assert thirtyfiveup.get("/orders").json()[0]["returns"][0]["status"] == "closed"
    assert SandboxReturn.objects.get(public_id=return_id).status == "closed"


def test_a_shop_status_request_sees_the_return_as_it_is_now(
    thirtyfiveup, control, fulfilled_order, settings, monkeypatch
):
    return_id = thirtyfiveup.post("/returns", return_body(fulfilled_order, 1)).json()["id"]
    control.post(f"/35up/returns/{return_id}/advance")
    settings.SANDBOX_35UP_ADVANCE_SECONDS = 60
    later = timezone.now() + timedelta(seconds=61)
    monkeypatch.setattr(timezone, "now", lambda: later)

    response = thirtyfiveup.patch(f"/returns/{return_id}", {"status": "cancelled"})

    assert response.status_code == 400
    assert response.json() == {
        "errors": {"status": "a return that is customer_shipped cannot be cancelled"}
    }


@pytest.mark.parametrize(
    "status",
    [
        "seller_received",
        "not_confirmed",
        "awaiting_dispute",
        "rejected",
        "expired",
        "voided",
        "cancelled",
        "closed",
    ],
)
def test_returns_waiting_on_the_shop_or_a_person_and_ended_ones_stay(
    thirtyfiveup, control, fulfilled_order, settings, status
):
    return_id = thirtyfiveup.post("/returns", return_body(fulfilled_order, 1)).json()["id"]
    control.post(f"/35up/returns/{return_id}/advance", {"status": status})
    settings.SANDBOX_35UP_ADVANCE_SECONDS = 0

    assert thirtyfiveup.get(f"/returns/{return_id}").json()["status"] == status


def test_a_return_the_shop_shipped_on_reaches_the_vendor_over_time(
    thirtyfiveup, control, fulfilled_order, settings
):
    return_id = thirtyfiveup.post("/returns", return_body(fulfilled_order, 1)).json()["id"]
    control.post(f"/35up/returns/{return_id}/advance", {"status": "seller_received"})
    thirtyfiveup.patch(f"/returns/{return_id}", {"status": "seller_shipped"})
    settings.SANDBOX_35UP_ADVANCE_SECONDS = 0

    assert thirtyfiveup.get(f"/returns/{return_id}").json()["status"] == "closed"


def test_returns_do_not_move_on_without_the_setting(thirtyfiveup, fulfilled_order, monkeypatch):
    return_id = thirtyfiveup.post("/returns", return_body(fulfilled_order, 1)).json()["id"]
    later = timezone.now() + timedelta(days=30)
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert thirtyfiveup.get(f"/returns/{return_id}").json()["status"] == "created"
