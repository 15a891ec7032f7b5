"""The fake 35up orders: placing, reading, status requests, and moving on over time."""

from datetime import timedelta

import pytest
from django.utils import timezone

from sandbox import selectors
from sandbox.models import SandboxOrder

pytestmark = pytest.mark.django_db


def order_body(**changes):
    body = {
        "session": "123abc",
        "reference": "Order74927943",
        "customer": {
            "firstName": "Jeffrey",
            "lastName": "Bazos",
            "email": "jeffrey@nile.com",
            "phone": "001384859590",
        },
        "shippingAddress": {
            "firstName": "Jeffrey",
            "lastName": "Bazos",
            "company": "Nile",
            "street": "Monopoly Street",
            "streetNumber": "66",
            "extra": "Top Floor",
            "city": "Seattle",
            "postcode": "98121",
            "state": "WA",
            "country": "US",
        },
        "items": [
            {"sku": "caseable/HC12PXX127030XXAPIP2P", "qty": 2, "config": {"size": "45"}},
            {"sku": "caseable/SCREEN01", "qty": 1},
        ],
    }
    body.update(changes)
    return body


def place(thirtyfiveup, **changes):
    response = thirtyfiveup.post("/orders", order_body(**changes))
    assert response.status_code == 201, response.json()
    return response.json()


def test_placing_an_order_answers_201_with_id_status_and_epoch_second_strings(thirtyfiveup):
    answer = place(thirtyfiveup)

    assert set(answer) == {"id", "status", "updatedAt", "createdAt"}
    assert answer["status"] == "pending"
    assert len(answer["id"]) == 10 and answer["id"].isalnum()
    assert isinstance(answer["createdAt"], str) and answer["createdAt"].isdigit()
    assert abs(int(answer["createdAt"]) - timezone.now().timestamp()) < 5
    assert selectors.thirtyfiveup_orders("Order74927943").count() == 1


def test_reading_an_order_lists_its_items_with_vendor_item_ids(thirtyfiveup):
    order_id = place(thirtyfiveup)["id"]

    answer = thirtyfiveup.get(f"/orders/{order_id}").json()

    assert answer["reference"] == "Order74927943"
    assert answer["status"] == "pending"
    assert [(item["sku"], item["qty"], item["status"]) for item in answer["items"]] == [
        ("caseable/HC12PXX127030XXAPIP2P", 2, "pending"),
        ("caseable/SCREEN01", 1, "pending"),
    ]
    item_ids = [item["itemId"] for item in answer["items"]]
    assert all(item_id.isdigit() for item_id in item_ids) and len(set(item_ids)) == 2


def test_the_session_may_come_as_a_query_parameter(thirtyfiveup):
    body = order_body()
    del body["session"]

    answer = thirtyfiveup.post("/orders?session=from-query", body).json()

    assert SandboxOrder.objects.get(public_id=answer["id"]).session == "from-query"


def test_new_orders_start_approved_when_the_setting_says_so(thirtyfiveup, settings):
    settings.SANDBOX_35UP_INITIAL_STATUS = "approved"

    assert place(thirtyfiveup)["status"] == "approved"


def test_sku_surrounding_white_space_is_stripped(thirtyfiveup):
    order_id = place(thirtyfiveup, items=[{"sku": " caseable/ABC ", "qty": 1}])["id"]

    assert thirtyfiveup.get(f"/orders/{order_id}").json()["items"][0]["sku"] == "caseable/ABC"


def test_a_shipping_address_is_optional_and_other_countries_need_no_state(thirtyfiveup):
    body = order_body()
    del body["shippingAddress"]
    assert thirtyfiveup.post("/orders", body).status_code == 201

    german = {"street": "Hauptstr.", "city": "Berlin", "postcode": "10115", "country": "DE"}
    assert thirtyfiveup.post("/orders", order_body(shippingAddress=german)).status_code == 201


@pytest.mark.parametrize(
    ("changes", "errors"),
    [
        (
            {"shippingAddress": {**order_body()["shippingAddress"], "state": None}},
            {"shippingAddress": {"state": "required for US"}},
        ),
        (
            {"shippingAddress": {**order_body()["shippingAddress"], "state": "US-WA"}},
            {
                "shippingAddress": {
                    "state": "must be an ISO 3166-2 subdivision code of US without the "
                    "country prefix, e.g. WA, QC, NSW"
                }
            },
        ),
        (
            {"shippingAddress": {**order_body()["shippingAddress"], "country": "USA"}},
            {"shippingAddress": {"country": "must be an ISO 3166-1 alpha-2 code, e.g. US"}},
        ),
        (
            {"customer": {"firstName": "Jeffrey", "email": "not-an-email"}},
            {
                "customer": {
                    "lastName": "required",
                    "email": "not a valid email address",
                }
            },
        ),
        (
            {
                "items": [
                    {"sku": "caseable/OK", "qty": 1},
                    {"sku": "caseable/HC12 PXX", "qty": 0, "config": {"size": 45}},
                ]
            },
            {
                "items": {
                    "1": {
                        "sku": "must be vendor/code without white space",
                        "qty": "must be a whole number of at least 1",
                        "config": {"size": "must be a string"},
                    }
                }
            },
        ),
        ({"items": []}, {"items": "at least one item is required"}),
    ],
)
def test_invalid_orders_are_refused_with_errors_nested_like_the_request(
    thirtyfiveup, changes, errors
):
    response = thirtyfiveup.post("/orders", order_body(**changes))

    assert response.status_code == 400
    assert response.json() == {"errors": errors}
    assert SandboxOrder.objects.count() == 0


def test_australian_and_canadian_states_are_iso_subdivision_codes(thirtyfiveup):
    sydney = {"street": "George St", "city": "Sydney", "postcode": "2000", "country": "AU"}
    assert thirtyfiveup.post("/orders", order_body(shippingAddress=sydney)).status_code == 400

    answer = thirtyfiveup.post("/orders", order_body(shippingAddress={**sydney, "state": "NSW"}))
    assert answer.status_code == 201
    montreal = {**sydney, "city": "Montreal", "country": "CA", "state": "QC"}
    assert thirtyfiveup.post("/orders", order_body(shippingAddress=montreal)).status_code == 201


@pytest.mark.parametrize(
    "authorization",
    ["", "Basic c2FuZGJveC11c2VyOndyb25n", "Bearer sandbox-pass", "Basic !!!"],
)
def test_wrong_or_missing_credentials_are_refused(thirtyfiveup, authorization):
    response = thirtyfiveup.post("/orders", order_body(), authorization=authorization or "Basic ")

    assert response.status_code == 401
    assert response.json() == {"errors": {"authorization": "Invalid username or password"}}
    assert response["WWW-Authenticate"] == 'Basic realm="35up"'
    assert SandboxOrder.objects.count() == 0


def test_unconfigured_credentials_accept_nobody(thirtyfiveup, settings):
    settings.THIRTYFIVEUP_USERNAME = settings.THIRTYFIVEUP_PASSWORD = ""

    response = thirtyfiveup.post("/orders", order_body(), authorization="Basic Og==")

    assert response.status_code == 401


def test_a_body_that_is_not_json_is_refused_in_35ups_shape(thirtyfiveup):
    response = thirtyfiveup.post("/orders", raw="{not json")

    assert response.status_code == 400
    assert response.json() == {"errors": {"request": "The request body is not valid JSON"}}


def test_a_wrong_method_answers_405(thirtyfiveup):
    response = thirtyfiveup.delete("/orders")

    assert response.status_code == 405
    assert response["Allow"] == "GET, POST"


def test_an_unknown_order_is_404(thirtyfiveup):
    response = thirtyfiveup.get("/orders/NOSUCHID")

    assert response.status_code == 404
    assert response.json() == {"errors": {"id": "no order with id NOSUCHID"}}


# --- the list (GET /orders) -------------------------------------------------------------------


def listed(thirtyfiveup, query=""):
    response = thirtyfiveup.get(f"/orders{query}")
    assert response.status_code == 200, response.json()
    return [order["id"] for order in response.json()]


def every_page(thirtyfiveup, query, limit):
    """Pages a client reads by limit and offset, up to the first empty one."""
    pages, offset = [], 0
    while page := listed(thirtyfiveup, f"{query}&limit={limit}&offset={offset}"):
        pages.append(page)
        offset += len(page)
    return pages


def test_the_list_finds_orders_by_reference(thirtyfiveup):
    place(thirtyfiveup, reference="A-1")
    wanted = place(thirtyfiveup, reference="A-2")["id"]

    answer = thirtyfiveup.get("/orders?reference=A-2").json()

    assert [order["id"] for order in answer] == [wanted]
    assert thirtyfiveup.get("/orders?limit=1").json()[0]["reference"] == "A-1"


def test_the_list_finds_orders_by_status(thirtyfiveup):
    place(thirtyfiveup)
    approved = place(thirtyfiveup)["id"]
    thirtyfiveup.patch(f"/orders/{approved}", {"status": "approved"})

    assert listed(thirtyfiveup, "?status=approved") == [approved]


def test_the_list_pages_in_id_order_at_most_100_at_a_time(thirtyfiveup):
    SandboxOrder.objects.bulk_create(
        SandboxOrder(reference=f"B-{n}", status=SandboxOrder.Status.PENDING) for n in range(101)
    )
    ids = list(SandboxOrder.objects.order_by("id").values_list("public_id", flat=True))

    assert listed(thirtyfiveup) == ids[:100]
    assert listed(thirtyfiveup, "?limit=500") == ids[:100]
    assert listed(thirtyfiveup, "?offset=100") == ids[100:]
    assert listed(thirtyfiveup, "?limit=0&offset=3") == ids[3:4]
    assert thirtyfiveup.get("/orders?limit=ten").status_code == 400


def test_ignoring_list_filters_answers_other_orders_in_id_order(thirtyfiveup, control):
    ids = [place(thirtyfiveup, reference=f"A-{n}")["id"] for n in range(3)]
    assert listed(thirtyfiveup, "?reference=A-1") == [ids[1]]

    control.post("/faults", {"ignore_list_filters": True})

    assert listed(thirtyfiveup, "?reference=A-1") == ids
    assert listed(thirtyfiveup, "?reference=A-1&status=approved") == ids


def test_ignoring_list_filters_keeps_the_paging(thirtyfiveup, control):
    ids = [place(thirtyfiveup, reference=f"A-{n}")["id"] for n in range(5)]
    control.post("/faults", {"ignore_list_filters": True})

    assert listed(thirtyfiveup, "?reference=A-3&limit=2&offset=2") == ids[2:4]
    assert every_page(thirtyfiveup, "?reference=A-3", 2) == [ids[0:2], ids[2:4], ids[4:]]


# --- status requests (PATCH) ------------------------------------------------------------------


def patch(thirtyfiveup, order_id, status, message=None):
    body = {"status": status} if message is None else {"status": status, "message": message}
    return thirtyfiveup.patch(f"/orders/{order_id}", body)


@pytest.mark.parametrize(
    ("initial", "requested", "result"),
    [
        ("pending", "approved", "approved"),
        ("pending", "cancelled", "cancelled"),
        ("approved", "pending", "pending"),
        ("approved", "cancelled", "pending_cancellation"),
        ("processing", "cancelled", "pending_cancellation"),
        ("approved", "approved", "approved"),
        ("pending_cancellation", "cancelled", "pending_cancellation"),
        ("cancelled", "cancelled", "cancelled"),
    ],
)
def test_allowed_status_requests(thirtyfiveup, control, initial, requested, result):
    order_id = place(thirtyfiveup)["id"]
    control.post(f"/35up/orders/{order_id}/advance", {"status": initial})

    response = patch(thirtyfiveup, order_id, requested, "order successfully paid")

    assert response.status_code == 200, response.json()
    assert set(response.json()) == {"id", "status", "updatedAt", "createdAt"}
    assert response.json()["status"] == result


@pytest.mark.parametrize(
    ("initial", "requested"),
    [
        ("cancelled", "approved"),
        ("cancelled", "pending"),
        ("processing", "approved"),
        ("processing", "pending"),
        ("fulfilled", "cancelled"),
        ("delivered", "cancelled"),
        ("closed", "approved"),
        ("pending_cancellation", "approved"),
    ],
)
def test_status_requests_that_make_no_sense_now_are_refused(
    thirtyfiveup, control, initial, requested
):
    order_id = place(thirtyfiveup)["id"]
    control.post(f"/35up/orders/{order_id}/advance", {"status": initial})

    response = patch(thirtyfiveup, order_id, requested)

    assert response.status_code == 400
    assert response.json() == {
        "errors": {"status": f"an order that is {initial} cannot be {requested}"}
    }
    assert SandboxOrder.objects.get(public_id=order_id).status == initial


@pytest.mark.parametrize("requested", ["processing", "fulfilled", "closed", "APPROVED", None])
def test_only_pending_approved_and_cancelled_may_be_requested(thirtyfiveup, requested):
    order_id = place(thirtyfiveup)["id"]

    response = patch(thirtyfiveup, order_id, requested)

    assert response.status_code == 400
    assert response.json() == {"errors": {"status": "must be one of pending, approved, cancelled"}}


def test_the_history_keeps_every_change_with_its_message(thirtyfiveup):
    order_id = place(thirtyfiveup)["id"]
    patch(thirtyfiveup, order_id, "approved", "paid")
    patch(thirtyfiveup, order_id, "cancelled", "customer changed their mind")

    order = selectors.thirtyfiveup_orders().get(public_id=order_id)

    assert [(c.from_status, c.to_status, c.source, c.message) for c in order.history.all()] == [
        ("", "pending", "placed", ""),
        ("pending", "approved", "patch", "paid"),
        ("approved", "pending_cancellation", "patch", "customer changed their mind"),
    ]


# --- moving on ----------------------------------------------------------------------------------


def test_the_control_endpoint_moves_an_order_one_step_on(thirtyfiveup, control):
    order_id = place(thirtyfiveup)["id"]
    seen = []
    for _ in range(5):
        seen.append(control.post(f"/35up/orders/{order_id}/advance").json()["status"])

    assert seen == ["approved", "processing", "fulfilled", "delivered", "closed"]
    response = control.post(f"/35up/orders/{order_id}/advance")
    assert response.status_code == 409
    assert response.json() == {"error": {"status": "an order that is closed has no next step"}}


def test_the_control_endpoint_refuses_unknown_statuses_and_orders(control):
    assert control.post("/35up/orders/NOPE/advance").status_code == 404


def test_approved_orders_move_on_when_read_after_the_configured_time(
    thirtyfiveup, settings, monkeypatch
):
    settings.SANDBOX_35UP_ADVANCE_SECONDS = 60
    order_id = place(thirtyfiveup)["id"]
    approved_at = timezone.now()
    patch(thirtyfiveup, order_id, "approved")

    def status_after(seconds):
        later = approved_at + timedelta(seconds=seconds)
        monkeypatch.setattr(timezone, "now", lambda: later)
        return thirtyfiveup.get(f"/orders/{order_id}").json()

    assert status_after(30)["status"] == "approved"
    assert status_after(61)["status"] == "processing"
    answer = status_after(185)
    assert answer["status"] == "delivered"
    # Each step is stamped when it was due, not when it was noticed.
    assert int(answer["updatedAt"]) == int((approved_at + timedelta(seconds=180)).timestamp())
    assert status_after(10_000)["status"] == "delivered"


def test_with_zero_seconds_an_approved_order_is_delivered_on_the_next_read(thirtyfiveup, settings):
    settings.SANDBOX_35UP_ADVANCE_SECONDS = 0
    order_id = place(thirtyfiveup)["id"]
    patch(thirtyfiveup, order_id, "approved")

    assert thirtyfiveup.get(f"/orders/{order_id}").json()["status"] == "delivered"
    order = SandboxOrder.objects.get(public_id=order_id)
    assert [change.source for change in order.history.all()] == [
        "placed",
        "patch",
        "time",
        "time",
        "time",
    ]


def test_pending_orders_wait_for_approval_and_cancellations_complete_over_time(
    thirtyfiveup, settings
):
    settings.SANDBOX_35UP_ADVANCE_SECONDS = 0
    waiting = place(thirtyfiveup)["id"]
    cancelling = place(thirtyfiveup, reference="other")["id"]
    patch(thirtyfiveup, cancelling, "approved")
    settings.SANDBOX_35UP_ADVANCE_SECONDS = None
    patch(thirtyfiveup, cancelling, "cancelled")
    settings.SANDBOX_35UP_ADVANCE_SECONDS = 0

    assert thirtyfiveup.get(f"/orders/{waiting}").json()["status"] == "pending"
    assert thirtyfiveup.get(f"/orders/{cancelling}").json()["status"] == "cancelled"


def test_orders_do_not_move_on_without_the_setting(thirtyfiveup, monkeypatch):
    order_id = place(thirtyfiveup)["id"]
    patch(thirtyfiveup, order_id, "approved")
    later = timezone.now() + timedelta(days=30)
    monkeypatch.setattr(timezone, "now", lambda: later)

    assert thirtyfiveup.get(f"/orders/{order_id}").json()["status"] == "approved"
