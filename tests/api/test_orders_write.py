"""Writing orders through the API: ingest (idempotent on reference), transitions, shipments and
return requests, each through the service the admin calls, each error in the one format."""

import copy

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django_fsm import ConcurrentTransition

from api.schema import INGEST_DOCUMENT
from orders import services
from orders.forms import TransitionForm
from orders.models import Order, OrderStatus, OrderStatusChange
from outbox.models import Delivery
from returns.models import Return
from tests.factories import ShipmentFactory, ShipmentLineFactory, order_in_status
from tests.returns.helpers import returnable_order

pytestmark = pytest.mark.django_db


def document(**changes):
    result = copy.deepcopy(INGEST_DOCUMENT)
    result.update(changes)
    return result


def test_ingest_creates_the_order_and_answers_201_with_it(api):
    response = api.post("/api/v1/orders/", document())
    assert response.status_code == 201, response.content
    body = response.json()
    order = Order.objects.get(reference="Order74927943")
    assert response["Location"] == f"/api/v1/orders/{order.pk}/"
    assert body["id"] == order.pk
    assert body["status"] == "new"
    assert body["lines"][0]["unit_price"] == "29.99"
    assert body["shipping_address"]["first_name"] == "Jeffrey"
    change = OrderStatusChange.objects.get(order=order)
    assert (change.source, change.actor_label, change.message) == (
        "api",
        "checkout",
        "Order received.",
    )
    # The same services as every door: 35up placement and Shipup written with the order.
    assert set(Delivery.objects.values_list("provider", "operation")) >= {("35up", "place_order")}
    assert body["provider_syncs"][0]["pending"] == 1


def test_the_same_document_again_answers_200_with_the_existing_order(api):
    created = api.post("/api/v1/orders/", document()).json()
    deliveries = Delivery.objects.count()
    again = api.post("/api/v1/orders/", document())
    assert again.status_code == 200
    assert again.json()["id"] == created["id"]
    assert Order.objects.count() == 1
    assert Delivery.objects.count() == deliveries
    # Key order and case-insensitive fields do not make a document different.
    reordered = dict(reversed(list(document(currency="usd").items())))
    assert api.post("/api/v1/orders/", reordered).status_code == 200


def test_a_different_document_with_the_same_reference_answers_409(api):
    api.post("/api/v1/orders/", document())
    changed = document()
    changed["lines"][0]["quantity"] = 3
    response = api.post("/api/v1/orders/", changed)
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert "already exists with different content" in body["message"]
    assert list(body["field_errors"]) == ["reference"]
    assert Order.objects.get().lines.get().quantity == 2


def test_an_invalid_document_answers_400_field_by_field(api):
    bad = document(
        currency="EURO", lines=[{"sku": "x", "name": "y", "quantity": 0, "unit_price": "a"}]
    )
    bad["shipping_address"] = {**bad["shipping_address"], "country": "USA", "state": ""}
    del bad["customer"]["email"]
    response = api.post("/api/v1/orders/", bad)
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["field_errors"]) == {
        "currency",
        "customer.email",
        "shipping_address.country",
        "lines[0].quantity",
        "lines[0].unit_price",
    }
    assert not Order.objects.exists()


def test_a_business_rule_of_the_models_comes_back_under_its_path(api):
    bad = document()
    bad["shipping_address"] = {**bad["shipping_address"], "state": "ZZ"}
    response = api.post("/api/v1/orders/", bad)
    assert response.status_code == 400
    assert list(response.json()["field_errors"]) == ["shipping_address.state"]


def test_ingest_needs_the_add_order_permission(admin_api, reader):
    assert reader.post("/api/v1/orders/", document()).status_code == 403
    assert admin_api.post("/api/v1/orders/", document()).status_code == 201


@pytest.mark.parametrize(
    ("status", "request_body", "to_status", "history_message"),
    [
        ("pending", {"action": "approve", "message": " Paid "}, "approved", "Paid"),
        (
            "approved",
            {"action": "hold", "reason": "awaiting_payment", "message": "Bank transfer"},
            "pending",
            "Reason: Waiting for payment. Bank transfer",
        ),
        (
            "pending",
            {"action": "cancel", "reason": "customer_asked"},
            "cancelled",
            "Reason: The customer asked to cancel.",
        ),
        (
            "processing",
            {"action": "cancel", "reason": "fraud", "message": "Card reported stolen"},
            "pending_cancellation",
            "Reason: Suspected fraud. Card reported stolen",
        ),
    ],
)
def test_a_transition_is_recorded_with_its_message(
    api, status, request_body, to_status, history_message
):
    order = order_in_status(status)
    response = api.post(f"/api/v1/orders/{order.pk}/transitions/", request_body)
    assert response.status_code == 200, response.content
    assert response.json()["status"] == to_status
    change = response.json()["history"][-1]
    assert change == {
        **change,
        "to_status": to_status,
        "message": history_message,
        "source": "api",
    }
    assert Delivery.objects.filter(provider="35up", operation="update_order_status").exists()


@pytest.mark.parametrize("reason", [None, "", "changed_mind", "awaiting_payment"])
def test_cancel_without_one_of_its_reasons_is_a_field_error_listing_them(api, reason):
    order = order_in_status("pending")
    request_body = {"action": "cancel", "message": "Customer phoned"}
    if reason is not None:
        request_body["reason"] = reason
    response = api.post(f"/api/v1/orders/{order.pk}/transitions/", request_body)
    assert response.status_code == 400
    expected = (
        "Choose a reason to cancel: customer_asked, payment_failed, fraud, undeliverable, "
        "duplicate, other."
    )
    assert response.json() == {
        "code": "invalid",
        "message": f"reason: {expected}",
        "field_errors": {"reason": [expected]},
    }
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert not Delivery.objects.filter(operation="update_order_status").exists()


def test_hold_without_a_reason_lists_the_reasons_of_hold(api):
    order = order_in_status("approved")
    response = api.post(f"/api/v1/orders/{order.pk}/transitions/", {"action": "hold"})
    assert response.status_code == 400
    assert response.json()["field_errors"] == {
        "reason": [
            "Choose a reason to hold: awaiting_payment, fraud_check, customer_asked, "
            "address_check, other."
        ]
    }


def test_cancel_with_a_reason_writes_the_history_message_the_admin_writes(api, support_user):
    order = order_in_status("pending")
    response = api.post(
        f"/api/v1/orders/{order.pk}/transitions/",
        {"action": "cancel", "reason": "duplicate", "message": "Placed twice at checkout"},
    )
    assert response.status_code == 200, response.content
    assert response.json()["history"][-1]["message"] == (
        "Reason: Duplicate order. Placed twice at checkout"
    )
    # The admin's form builds its message with the same service function.
    form = TransitionForm(
        {"reason": "duplicate", "message": "Placed twice at checkout"}, action="cancel"
    )
    assert form.is_valid()
    assert form.history_message() == OrderStatusChange.objects.filter(order=order).last().message


def test_hold_for_another_reason_needs_the_details_and_records_them(api):
    order = order_in_status("approved")
    url = f"/api/v1/orders/{order.pk}/transitions/"
    without_details = api.post(url, {"action": "hold", "reason": "other", "message": "  "})
    assert without_details.status_code == 400
    assert without_details.json()["field_errors"] == {
        "message": ["Say why: the reason is 'Other'."]
    }
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED

    response = api.post(
        url, {"action": "hold", "reason": "other", "message": "Engraving to be confirmed"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "pending"
    assert response.json()["history"][-1]["message"] == "Reason: Engraving to be confirmed"


def test_approve_needs_no_reason_and_refuses_one(api):
    order = order_in_status("pending")
    url = f"/api/v1/orders/{order.pk}/transitions/"
    refused = api.post(url, {"action": "approve", "reason": "duplicate", "message": "Paid"})
    assert refused.status_code == 400
    assert refused.json()["field_errors"] == {
        "reason": ["approve takes no reason: say why in `message`."]
    }
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    response = api.post(url, {"action": "approve", "reason": "", "message": "Paid"})
    assert response.status_code == 200, response.content
    assert response.json()["history"][-1]["message"] == "Paid"


def test_api_read_may_not_cancel_even_with_a_reason(reader):
    order = order_in_status("pending")
    response = reader.post(
        f"/api/v1/orders/{order.pk}/transitions/", {"action": "cancel", "reason": "duplicate"}
    )
    assert response.status_code == 403
    assert response.json()["message"] == "You do not have permission to cancel orders."
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_a_second_approve_answers_409_with_the_transitions_allowed_now(api):
    order = order_in_status("pending")
    assert (
        api.post(f"/api/v1/orders/{order.pk}/transitions/", {"action": "approve"}).status_code
        == 200
    )
    response = api.post(f"/api/v1/orders/{order.pk}/transitions/", {"action": "approve"})
    assert response.status_code == 409
    assert response.json() == {
        "code": "transition_refused",
        "message": f"Order {order.reference} is approved: it cannot be approved.",
        "field_errors": {},
        "allowed": ["cancel", "hold"],
    }
    assert OrderStatusChange.objects.filter(order=order, to_status="approved").count() == 1


def test_a_closed_order_allows_nothing(api):
    order = order_in_status("closed")
    response = api.post(
        f"/api/v1/orders/{order.pk}/transitions/", {"action": "cancel", "reason": "duplicate"}
    )
    assert response.status_code == 409
    assert response.json()["allowed"] == []


def test_an_unknown_action_is_a_field_error(api):
    order = order_in_status("pending")
    response = api.post(f"/api/v1/orders/{order.pk}/transitions/", {"action": "ship"})
    assert response.status_code == 400
    assert response.json()["field_errors"] == {"action": ['"ship" is not a valid choice.']}


def test_a_concurrent_change_answers_409_conflict(api, monkeypatch):
    order = order_in_status("pending")

    def changed_meanwhile(*args, **kwargs):
        raise ConcurrentTransition("changed")

    monkeypatch.setattr(services.OrderStatusChange, "record", changed_meanwhile)
    response = api.post(f"/api/v1/orders/{order.pk}/transitions/", {"action": "approve"})
    assert response.status_code == 409
    assert response.json()["code"] == "conflict"
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_a_transition_of_an_order_that_does_not_exist(api):
    response = api.post("/api/v1/orders/424242/transitions/", {"action": "approve"})
    assert response.status_code == 404


def test_add_a_shipment(api):
    order = order_in_status("approved")
    line = order.lines.get()
    response = api.post(
        f"/api/v1/orders/{order.pk}/shipments/",
        {
            "tracking_number": "1Z999",
            "carrier_code": "ups",
            "shipped_at": "2026-11-21T09:30:00+01:00",
            "lines": [{"line_id": line.pk, "quantity": 2}],
        },
    )
    assert response.status_code == 201, response.content
    shipment = response.json()["shipments"][0]
    assert shipment["tracking_number"] == "1Z999"
    assert shipment["shipped_at"] == "2026-11-21T08:30:00Z"
    assert shipment["lines"] == [{"line_id": line.pk, "quantity": 2}]


def test_a_shipment_never_ships_more_than_was_ordered(api):
    order = order_in_status("approved")
    line = order.lines.get()
    ShipmentLineFactory(shipment=ShipmentFactory(order=order), order_line=line, quantity=1)
    response = api.post(
        f"/api/v1/orders/{order.pk}/shipments/",
        {"tracking_number": "1Z2", "lines": [{"line_id": line.pk, "quantity": 2}]},
    )
    assert response.status_code == 400
    assert response.json()["code"] == "action_refused"
    assert "2 is more than the 1 not yet shipped" in response.json()["message"]


def test_shipment_refusals(api):
    pending = order_in_status("pending")
    response = api.post(
        f"/api/v1/orders/{pending.pk}/shipments/",
        {"tracking_number": "1Z", "lines": [{"line_id": pending.lines.get().pk, "quantity": 1}]},
    )
    assert (response.status_code, response.json()["code"]) == (409, "transition_refused")
    approved = order_in_status("approved")
    body = {"tracking_number": "1Z", "lines": [{"line_id": approved.lines.get().pk, "quantity": 1}]}
    assert api.post(f"/api/v1/orders/{approved.pk}/shipments/", body).status_code == 201
    again = api.post(f"/api/v1/orders/{approved.pk}/shipments/", body)
    assert (again.status_code, again.json()["code"]) == (409, "conflict")
    other_line = {
        "tracking_number": "1Z3",
        "lines": [{"line_id": pending.lines.get().pk, "quantity": 1}],
    }
    wrong = api.post(f"/api/v1/orders/{approved.pk}/shipments/", other_line)
    assert (wrong.status_code, wrong.json()["code"]) == (400, "action_refused")


def test_request_a_return(api):
    order = returnable_order()
    line = order.lines.get()
    response = api.post(
        f"/api/v1/orders/{order.pk}/returns/",
        {"reason": "Too small", "lines": [{"line_id": line.pk, "quantity": 2}]},
    )
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["order_reference"] == order.reference
    assert body["status"] == "new"
    assert body["lines"] == [
        {
            "id": body["lines"][0]["id"],
            "line_id": line.pk,
            "sku": line.sku,
            "quantity": 2,
            "thirtyfiveup_item_id": line.thirtyfiveup_item_id,
        }
    ]
    assert body["requested_by"] == "checkout"
    assert Delivery.objects.filter(provider="35up", operation="request_return").exists()


def test_return_refusals(api):
    order = returnable_order(quantity=1)
    line = order.lines.get()
    too_many = api.post(
        f"/api/v1/orders/{order.pk}/returns/",
        {"reason": "Too small", "lines": [{"line_id": line.pk, "quantity": 2}]},
    )
    assert (too_many.status_code, too_many.json()["code"]) == (400, "action_refused")
    pending = order_in_status("pending")
    not_yet = api.post(
        f"/api/v1/orders/{pending.pk}/returns/",
        {"reason": "Too small", "lines": [{"line_id": pending.lines.get().pk, "quantity": 1}]},
    )
    assert (not_yet.status_code, not_yet.json()["code"]) == (409, "transition_refused")
    no_reason = api.post(
        f"/api/v1/orders/{order.pk}/returns/",
        {"reason": "", "lines": [{"line_id": line.pk, "quantity": 1}]},
    )
    assert no_reason.json()["field_errors"] == {"reason": ["This field may not be blank."]}
    assert not Return.objects.exists()


def test_a_repeated_ingest_writes_nothing(api):
    assert api.post("/api/v1/orders/", document()).status_code == 201
    with CaptureQueriesContext(connection) as again:
        assert api.post("/api/v1/orders/", document()).status_code == 200
    # Answering a repeat reads; it writes nothing.
    assert not [q for q in again.captured_queries if q["sql"].startswith(("INSERT", "UPDATE"))]
