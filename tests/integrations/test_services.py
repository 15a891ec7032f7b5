"""Provider operations end to end against `responses`: payload out, answer recorded on the order."""

import json
from datetime import UTC, datetime

import pytest
import responses

from integrations.errors import PermanentProviderError, ProviderDisabled, ProviderValidationError
from integrations.models import ProviderLink
from integrations.providers import Provider, disabled_providers, enabled_providers
from integrations.services import (
    place_order_at_35up,
    push_order_to_shipup,
    push_orders_to_sendcloud,
    submit_order_to_reevoo,
    update_35up_order_status,
)
from orders.models import OrderStatus
from tests.factories import OrderFactory, OrderLineFactory, order_in_status

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("provider_settings")]

THIRTYFIVEUP = "https://api.35up.test/v1"
SENDCLOUD_ORDERS = "https://panel.sendcloud.test/api/v3/orders/"


def link(order, provider):
    return ProviderLink.objects.get(order=order, provider=provider)


@responses.activate
def test_placing_at_35up_keeps_its_id_item_ids_and_status():
    order = OrderFactory()
    line = OrderLineFactory(order=order, sku="caseable/HC12PXX127030XXAPIP2P")
    responses.post(
        f"{THIRTYFIVEUP}/orders",
        status=201,
        json={
            "id": "42CA346434",
            "status": "pending",
            "updatedAt": "1603375967",
            "createdAt": "1603375967",
            "items": [{"itemId": "412412", "sku": "caseable/HC12PXX127030XXAPIP2P"}],
        },
    )

    placed = place_order_at_35up(order)

    line.refresh_from_db()
    assert placed.id == order.thirtyfiveup_id == "42CA346434"
    assert order.status == OrderStatus.PENDING
    assert order.thirtyfiveup_updated_at == datetime.fromtimestamp(1603375967, tz=UTC)
    assert line.thirtyfiveup_item_id == "412412"
    assert order.history.get().to_status == OrderStatus.PENDING
    assert link(order, Provider.THIRTYFIVEUP).remote_status == "pending"


def test_an_order_already_placed_is_never_posted_again():
    order = order_in_status("approved", thirtyfiveup_id="42CA346434")

    with pytest.raises(ProviderValidationError):
        place_order_at_35up(order)

    assert "already placed" in link(order, Provider.THIRTYFIVEUP).last_error


@responses.activate
def test_a_status_update_applies_35up_answer_as_a_report():
    order = order_in_status("pending", thirtyfiveup_id="42CA346434")
    responses.patch(
        f"{THIRTYFIVEUP}/orders/42CA346434",
        json={
            "id": "42CA346434",
            "status": "approved",
            "updatedAt": "1900000000",
            "createdAt": "1",
        },
    )

    update_35up_order_status(order, "approved", "paid")

    assert json.loads(responses.calls[0].request.body) == {"status": "approved", "message": "paid"}
    assert order.status == OrderStatus.APPROVED
    assert order.thirtyfiveup_updated_at == datetime.fromtimestamp(1900000000, tz=UTC)


@responses.activate
def test_a_refused_call_is_recorded_on_the_link_and_raised():
    order = OrderFactory()
    OrderLineFactory(order=order)
    responses.post(
        f"{THIRTYFIVEUP}/orders", status=400, json={"errors": {"customer": {"email": "Invalid"}}}
    )

    with pytest.raises(PermanentProviderError):
        place_order_at_35up(order)

    recorded = link(order, Provider.THIRTYFIVEUP)
    assert recorded.last_error.endswith("customer.email: Invalid")
    assert recorded.last_attempt_at is not None and recorded.last_success_at is None
    order.refresh_from_db()
    assert order.status == OrderStatus.NEW and order.thirtyfiveup_id is None


def sendcloud_answer(payloads):
    return {
        "data": [
            {
                "id": f"sc-{p['order_id']}",
                "order_id": p["order_id"],
                "order_number": p["order_number"],
            }
            for p in payloads
        ]
    }


@responses.activate
def test_sendcloud_push_splits_a_refused_batch_so_good_orders_still_go():
    good = [order_in_status("approved") for _ in range(4)]
    refused = order_in_status("approved")
    swiss = order_in_status("approved", currency="CHF")
    refused_id = str(refused.pk)

    def answer(request):
        payloads = json.loads(request.body)
        if any(p["order_id"] == refused_id for p in payloads):
            return 400, {}, json.dumps({"errors": [{"code": "invalid", "detail": "Bad order"}]})
        return 201, {}, json.dumps(sendcloud_answer(payloads))

    responses.add_callback(responses.POST, SENDCLOUD_ORDERS, callback=answer)

    results = push_orders_to_sendcloud([*good[:2], refused, swiss, *good[2:]])

    outcome = {r.order.pk: (r.succeeded, r.remote_id) for r in results}
    assert [outcome[o.pk] for o in good] == [(True, f"sc-{o.pk}") for o in good]
    assert outcome[refused.pk] == (False, "")
    assert outcome[swiss.pk] == (False, "")
    # The CHF order never joined a batch; the refused one was isolated by splitting.
    sent_ids = [[p["order_id"] for p in json.loads(c.request.body)] for c in responses.calls]
    assert sent_ids[0] == [str(o.pk) for o in [*good[:2], refused, *good[2:]]]
    assert all(str(swiss.pk) not in ids for ids in sent_ids)
    assert link(refused, Provider.SENDCLOUD).last_error.endswith("Bad order (invalid)")
    assert link(good[0], Provider.SENDCLOUD).remote_id == f"sc-{good[0].pk}"


@responses.activate
def test_sendcloud_sends_100_orders_per_batch(settings):
    settings.PROVIDER_RATE_LIMITS = {}
    orders = [order_in_status("approved") for _ in range(101)]
    responses.add_callback(
        responses.POST,
        SENDCLOUD_ORDERS,
        callback=lambda request: (201, {}, json.dumps(sendcloud_answer(json.loads(request.body)))),
    )

    results = push_orders_to_sendcloud(orders)

    assert [len(json.loads(call.request.body)) for call in responses.calls] == [100, 1]
    assert all(result.succeeded for result in results)


@responses.activate
def test_a_retryable_sendcloud_failure_holds_the_whole_batch_without_splitting():
    orders = [order_in_status("approved") for _ in range(3)]
    responses.post(SENDCLOUD_ORDERS, status=503, body="")

    results = push_orders_to_sendcloud(orders)

    assert len(responses.calls) == 1
    assert [r.error.retryable for r in results] == [True, True, True]


@responses.activate
def test_shipup_and_reevoo_answers_are_recorded():
    order = order_in_status("delivered")
    responses.post("https://api.shipup.test/v2/orders", status=201, json={"id": 77})
    responses.post(
        "https://api.reevoo.test/v4/organisations/TRKREF123/customer_order",
        status=202,
        json={"status": "accepted", "id": "0b8a4e1c-2f7a-4d3e-9a55-6c1f0e2d9b41", "message": "OK"},
    )

    push_order_to_shipup(order)
    submit_order_to_reevoo(order)

    assert link(order, Provider.SHIPUP).remote_id == "77"
    reevoo = link(order, Provider.REEVOO)
    assert (reevoo.remote_id, reevoo.remote_status, reevoo.last_error) == (
        "0b8a4e1c-2f7a-4d3e-9a55-6c1f0e2d9b41",
        "accepted",
        "",
    )


def test_providers_without_credentials_are_disabled_and_say_why(settings):
    settings.SHIPUP_API_KEY = ""
    settings.REEVOO_API_SECRET = ""

    assert enabled_providers() == [Provider.THIRTYFIVEUP, Provider.SENDCLOUD]
    assert disabled_providers() == {
        Provider.SHIPUP: ["SHIPUP_API_KEY"],
        Provider.REEVOO: ["REEVOO_API_SECRET"],
    }
    order = order_in_status("delivered")
    with pytest.raises(ProviderDisabled):
        push_order_to_shipup(order)
    assert link(order, Provider.SHIPUP).last_error == (
        "shipup: Disabled: SHIPUP_API_KEY not configured."
    )
