"""Reading returns (lines, history) and deliveries (for monitoring), setting a shop-settable
return status, and the filters of both."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from returns.models import Return, ReturnStatus
from tests.factories import DeliveryFactory, OrderFactory, order_in_status
from tests.returns.helpers import return_in_status, returnable_order

pytestmark = pytest.mark.django_db


def ids(response):
    assert response.status_code == 200, response.content
    return [row["id"] for row in response.json()["results"]]


def test_a_return_with_its_lines_history_and_allowed_statuses(api):
    order = returnable_order()
    created = api.post(
        f"/api/v1/orders/{order.pk}/returns/",
        {"reason": "Too small", "lines": [{"line_id": order.lines.get().pk, "quantity": 1}]},
    ).json()
    body = api.get(f"/api/v1/returns/{created['id']}/").json()
    assert body["order_id"] == order.pk
    assert body["reason"] == "Too small"
    assert body["lines"][0]["quantity"] == 1
    assert body["history"][0]["message"] == "Return requested: Too small"
    assert body["statuses_allowed"] == ["cancelled"]


def test_set_a_shop_settable_status(api):
    return_request = return_in_status("awaiting_return")
    response = api.post(
        f"/api/v1/returns/{return_request.pk}/status/",
        {"status": "seller_received", "message": "Parcel at the shop"},
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "seller_received"
    assert body["history"][-1]["message"] == "Parcel at the shop"
    assert body["statuses_allowed"] == ["seller_shipped"]


def test_a_status_not_reachable_now_answers_409_with_the_allowed_ones(api):
    return_request = return_in_status("customer_shipped")
    response = api.post(f"/api/v1/returns/{return_request.pk}/status/", {"status": "cancelled"})
    assert response.status_code == 409
    assert response.json()["code"] == "transition_refused"
    assert response.json()["allowed"] == ["seller_received"]
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.CUSTOMER_SHIPPED


def test_a_status_35up_sets_cannot_be_set(api):
    return_request = return_in_status("vendor_received")
    response = api.post(f"/api/v1/returns/{return_request.pk}/status/", {"status": "refunded"})
    assert response.status_code == 400
    assert "status" in response.json()["field_errors"]


def test_return_filters(api):
    early = return_in_status("awaiting_return")
    late = return_in_status("refunded")
    Return.objects.filter(pk=early.pk).update(
        created_at=timezone.now() - timedelta(days=3),
        updated_at=timezone.now() - timedelta(days=3),
    )
    DeliveryFactory(subject=late, provider="35up", state="ambiguous", target="R")
    since = (timezone.now() - timedelta(days=1)).isoformat()
    assert ids(api.get("/api/v1/returns/")) == [late.pk, early.pk]
    assert ids(api.get("/api/v1/returns/?status=awaiting_return")) == [early.pk]
    assert ids(api.get(f"/api/v1/returns/?order={early.order.reference}")) == [early.pk]
    assert ids(api.get("/api/v1/returns/", {"updated_since": since})) == [late.pk]
    assert ids(api.get("/api/v1/returns/", {"created_before": since})) == [early.pk]
    assert ids(api.get("/api/v1/returns/", {"created_after": since})) == [late.pk]
    assert ids(api.get("/api/v1/returns/?has_dead_or_ambiguous=true")) == [late.pk]
    assert ids(api.get("/api/v1/returns/?has_dead_or_ambiguous=false")) == [early.pk]
    assert ids(api.get(f"/api/v1/returns/?thirtyfiveup_id=R-{late.pk}")) == [late.pk]
    assert ids(api.get("/api/v1/returns/?ordering=created_at")) == [early.pk, late.pk]


def test_the_query_count_of_a_returns_page_does_not_grow(api):
    return_in_status("awaiting_return")
    with CaptureQueriesContext(connection) as one:
        api.get("/api/v1/returns/")
    for _ in range(5):
        return_in_status("awaiting_return")
    with CaptureQueriesContext(connection) as six:
        assert len(api.get("/api/v1/returns/").json()["results"]) == 6
    assert len(one) == len(six)


def test_deliveries_show_their_state_without_the_stored_bodies(api):
    order = OrderFactory()
    delivery = DeliveryFactory(
        subject=order,
        state="dead",
        error="Sendcloud: 422",
        last_status_code=422,
        attempts=8,
        payload={"secret": "customer data"},
        response_body="customer data",
    )
    body = api.get(f"/api/v1/deliveries/{delivery.pk}/").json()
    assert body["state"] == "dead"
    assert body["attempts"] == 8
    assert body["subject_type"] == "orders.order"
    assert body["subject_id"] == order.pk
    assert "customer data" not in str(body)
    assert {"payload", "request", "response_body"}.isdisjoint(body)


def test_delivery_filters_and_pages(api):
    order = OrderFactory()
    other = order_in_status("new")
    dead = DeliveryFactory(subject=order, provider="sendcloud", state="dead")
    ambiguous = DeliveryFactory(
        subject=order, provider="35up", operation="place_order", state="ambiguous"
    )
    done = DeliveryFactory(subject=other, provider="shipup", state="succeeded")
    assert ids(api.get("/api/v1/deliveries/")) == [done.pk, ambiguous.pk, dead.pk]
    assert ids(api.get("/api/v1/deliveries/?state=dead&state=ambiguous")) == [ambiguous.pk, dead.pk]
    assert ids(api.get("/api/v1/deliveries/?provider=shipup")) == [done.pk]
    assert ids(api.get(f"/api/v1/deliveries/?subject_type=orders.order&subject_id={order.pk}")) == [
        ambiguous.pk,
        dead.pk,
    ]
    first = api.get("/api/v1/deliveries/?page_size=2&ordering=id").json()
    assert [row["id"] for row in first["results"]] == [dead.pk, ambiguous.pk]
    assert ids(api.get(first["next"])) == [done.pk]
    assert api.get("/api/v1/deliveries/?subject_id=1.5").status_code == 400
    assert api.get("/api/v1/deliveries/?provider=fedex").status_code == 400


def test_deliveries_are_read_only(api):
    delivery = DeliveryFactory(subject=OrderFactory())
    for method in ("post", "put", "patch", "delete"):
        response = getattr(api, method)(f"/api/v1/deliveries/{delivery.pk}/", {})
        assert response.status_code == 405
