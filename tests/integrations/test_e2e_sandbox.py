"""End to end: the real provider clients and services over real HTTP against the sandbox that the
live server runs, for every operation, every error shape, the faults and credential hygiene."""

import copy
import json
import logging
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import override_settings

from integrations.errors import (
    PermanentProviderError,
    ProviderError,
    ProviderNoAnswer,
    ProviderRateLimited,
    RetryableProviderError,
)
from integrations.models import ProviderLink
from integrations.providers import Provider
from integrations.reevoo.client import ReevooClient
from integrations.reevoo.mapping import customer_order_payload
from integrations.sendcloud import mapping as sendcloud_mapping
from integrations.sendcloud.client import SendcloudClient
from integrations.services import (
    place_order_at_35up,
    push_order_to_shipup,
    push_orders_to_sendcloud,
    submit_order_to_reevoo,
    update_35up_order_status,
)
from integrations.shipup.client import ShipupClient
from integrations.thirtyfiveup.client import ThirtyFiveUpClient
from integrations.thirtyfiveup.mapping import (
    place_order_payload,
    return_request_payload,
    return_status_payload,
)
from orders.models import OrderStatus
from outbox.models import Delivery
from outbox.services import send_due
from sandbox import selectors
from sandbox.models import SandboxRequest, SandboxReturn, SandboxShipupOrder
from tests.factories import OrderFactory, OrderLineFactory, ShipmentFactory, ShipmentLineFactory
from tests.integrations.e2e_fixtures import (
    CREDENTIALS,
    READ_TIMEOUT,
    held_answers_fixture,  # noqa: F401 (the held_answers fixture)
    sandbox_fixture,  # noqa: F401 (the sandbox fixture)
    secrets_of,
    session_with_fault_fixture,  # noqa: F401 (the session_with_fault fixture)
)
from tests.sandbox.test_shipup import INVALID as SHIPUP_SPEC_INVALID

pytestmark = pytest.mark.usefixtures("sandbox")

WRONG_CREDENTIALS = {
    "THIRTYFIVEUP_PASSWORD": "wrong-35up-Pass-e1",
    "SENDCLOUD_SECRET_KEY": "wrong-sendcloud-Secret-e2",
    "SHIPUP_API_KEY": "wrong-shipup-Key-e3",
    "REEVOO_API_SECRET": "wrong-reevoo-Secret-e4",
}


def order_with_lines(count=1, **fields):
    order = OrderFactory(**fields)
    OrderLineFactory.create_batch(count, order=order)
    return order


def link(order, provider):
    return ProviderLink.objects.get(order=order, provider=provider)


def client_with_credentials(client_class, **credentials):
    """A client built while the hub's settings hold other credentials than the provider's."""
    with override_settings(**credentials):
        return client_class.from_settings()


# --- 35up -----------------------------------------------------------------------------------


def test_placing_at_35up_sends_the_exact_body_once_and_keeps_the_answer():
    order = OrderFactory(reference="E2E-PLACE-1", session="abc123")
    first = OrderLineFactory(order=order, sku="caseable/HC12PXX127030XXAPIP2P", quantity=2)
    second = OrderLineFactory(order=order, sku="vendor_id/FEI60XX114014XXAPIP80", quantity=1)

    placed = place_order_at_35up(order)

    order.refresh_from_db()
    first.refresh_from_db()
    second.refresh_from_db()
    assert selectors.thirtyfiveup_orders("E2E-PLACE-1").count() == 1
    remote = selectors.thirtyfiveup_orders("E2E-PLACE-1").get()
    assert order.thirtyfiveup_id == placed.id == remote.public_id
    assert order.status == OrderStatus.PENDING == remote.status
    remote_items = {item.sku: item.item_id for item in remote.items.all()}
    assert first.thirtyfiveup_item_id == remote_items["caseable/HC12PXX127030XXAPIP2P"]
    assert second.thirtyfiveup_item_id == remote_items["vendor_id/FEI60XX114014XXAPIP80"]
    sent = selectors.received("35up", method="POST").get()
    assert sent.path == "/sandbox/35up/v1/orders?session=abc123"
    assert sent.response_status == 201
    assert sent.body == {
        "session": "abc123",
        "reference": "E2E-PLACE-1",
        "customer": {
            "firstName": "Jeffrey",
            "lastName": order.last_name,
            "email": order.email,
            "phone": "001384859590",
        },
        "shippingAddress": {
            "firstName": "Jeffrey",
            "lastName": order.last_name,
            "email": order.email,
            "phone": "001384859590",
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
            {
                "sku": "caseable/HC12PXX127030XXAPIP2P",
                "qty": 2,
                "config": {"size": "45", "color": "black"},
            },
            {
                "sku": "vendor_id/FEI60XX114014XXAPIP80",
                "qty": 1,
                "config": {"size": "45", "color": "black"},
            },
        ],
    }
    assert link(order, Provider.THIRTYFIVEUP).remote_id == placed.id


def test_approving_reading_and_listing_at_35up():
    order = order_with_lines(2, reference="E2E-APPROVE-1")
    placed = place_order_at_35up(order)

    answered = update_35up_order_status(order, "approved", "order successfully paid")

    remote = selectors.thirtyfiveup_orders("E2E-APPROVE-1").get()
    assert answered.status == remote.status == order.status == OrderStatus.APPROVED
    change = remote.history.last()
    assert (change.from_status, change.to_status) == ("pending", "approved")
    assert change.message == "order successfully paid"
    patch = selectors.received("35up", method="PATCH").get()
    assert patch.path == f"/sandbox/35up/v1/orders/{placed.id}"
    assert patch.body == {"status": "approved", "message": "order successfully paid"}

    client = ThirtyFiveUpClient.from_settings()
    read = client.get_order(placed.id)
    assert (read.id, read.status) == (placed.id, "approved")
    assert set(read.item_ids.values()) == set(
        order.lines.values_list("thirtyfiveup_item_id", flat=True)
    )
    place_order_at_35up(order_with_lines(reference="E2E-APPROVE-2"))
    listed = client.list_orders(reference="E2E-APPROVE-1")
    assert [(record.id, record.status) for record in listed] == [(placed.id, "approved")]


def test_a_return_is_requested_moved_and_read_through_the_client(sandbox):
    order = order_with_lines(2, reference="E2E-RETURN-1")
    place_order_at_35up(order)
    sandbox.advance_order(order.thirtyfiveup_id, "fulfilled")
    first, second = order.lines.order_by("pk")
    client = ThirtyFiveUpClient.from_settings()

    created = client.request_return(
        return_request_payload(order.thirtyfiveup_id, [(first, 2), (second, 1)])
    )
    # 35up accepts the return (created -> awaiting_return); then the customer ships it.
    sandbox.advance_return(created.id)
    moved = client.update_return_status(created.id, return_status_payload("customer_shipped"))
    read = client.get_return(created.id)

    assert created.status == "created"
    assert moved.status == read.status == "customer_shipped"
    remote = SandboxReturn.objects.get(public_id=created.id)
    assert remote.status == "customer_shipped"
    assert remote.order.public_id == order.thirtyfiveup_id
    assert {(item.order_item.sku, item.quantity) for item in remote.items.all()} == {
        (first.sku, 2),
        (second.sku, 1),
    }
    assert selectors.received("35up", method="POST", path_contains="/returns").get().body == {
        "orderId": order.thirtyfiveup_id,
        "items": [
            {"itemId": first.thirtyfiveup_item_id, "sku": first.sku, "quantity": 2},
            {"itemId": second.thirtyfiveup_item_id, "sku": second.sku, "quantity": 1},
        ],
    }


def test_a_35up_refusal_reads_field_by_field():
    payload = place_order_payload(order_with_lines(reference="E2E-NOSTATE-1"))
    del payload["shippingAddress"]["state"]

    with pytest.raises(PermanentProviderError) as raised:
        ThirtyFiveUpClient.from_settings().place_order(payload)

    assert raised.value.status == 400
    assert not raised.value.retryable
    assert raised.value.details == ["shippingAddress.state: required for US"]
    assert "shippingAddress.state: required for US" in str(raised.value)
    assert not selectors.thirtyfiveup_orders("E2E-NOSTATE-1").exists()


# --- Sendcloud ------------------------------------------------------------------------------


def test_pushing_to_sendcloud_upserts():
    orders = [order_with_lines(reference=f"E2E-SC-{n}") for n in range(3)]

    first_push = push_orders_to_sendcloud(orders)
    second_push = push_orders_to_sendcloud(orders)

    first_ids = [result.remote_id for result in first_push]
    assert all(result.succeeded for result in first_push + second_push)
    assert len(set(first_ids)) == 3 and all(first_ids)
    assert [result.remote_id for result in second_push] == first_ids
    assert selectors.sendcloud_orders().count() == 3
    for order, remote_id in zip(orders, first_ids, strict=True):
        stored = selectors.sendcloud_orders(str(order.pk)).get()
        assert str(stored.pk) == remote_id
        assert stored.order_number == order.reference
        assert link(order, Provider.SENDCLOUD).remote_id == remote_id
    assert selectors.received("sendcloud", method="POST").count() == 2


def test_listing_sendcloud_orders_follows_the_cursor_across_pages():
    # The sandbox's page holds 40 orders: 41 need two pages.
    orders = [order_with_lines(reference=f"E2E-PAGE-{n:02d}") for n in range(41)]
    pushed = push_orders_to_sendcloud(orders)

    listed = SendcloudClient.from_settings().list_orders(7)

    assert [ref.id for ref in listed] == [result.remote_id for result in pushed]
    assert [ref.order_number for ref in listed] == [order.reference for order in orders]
    pages = selectors.received("sendcloud", method="GET")
    assert pages.count() == 2
    assert "cursor=" in pages.last().path


def test_a_refused_sendcloud_batch_points_at_the_bad_field():
    payloads = [
        sendcloud_mapping.order_payload(
            order_with_lines(reference=f"E2E-RAW-{n}"), integration_id=7
        )
        for n in range(2)
    ]
    payloads[1]["shipping_address"]["country_code"] = "Netherlands"

    with pytest.raises(PermanentProviderError) as raised:
        SendcloudClient.from_settings().upsert_orders(payloads)

    assert raised.value.status == 400
    assert raised.value.details == [
        "/1/shipping_address/country_code: "
        "'Netherlands' is not an ISO 3166-1 alpha-2 country code (invalid)"
    ]
    assert not selectors.sendcloud_orders().exists()


def test_one_order_sendcloud_refuses_does_not_hold_back_the_others():
    orders = [order_with_lines(reference=f"E2E-SPLIT-{n}") for n in range(4)]
    # The mapping only checks that a country is there; Sendcloud checks that it exists.
    bad = orders[2]
    bad.shipping_country = "XX"
    bad.save(update_fields=["shipping_country"])

    results = push_orders_to_sendcloud(orders)

    by_reference = {result.order.reference: result for result in results}
    refused = by_reference.pop("E2E-SPLIT-2")
    assert all(result.succeeded and result.remote_id for result in by_reference.values())
    assert refused.error.status == 400
    assert refused.error.details == [
        "/0/shipping_address/country_code: 'XX' is not an ISO 3166-1 alpha-2 country code (invalid)"
    ]
    assert sorted(selectors.sendcloud_orders().values_list("order_number", flat=True)) == [
        "E2E-SPLIT-0",
        "E2E-SPLIT-1",
        "E2E-SPLIT-3",
    ]
    assert "country_code" in link(bad, Provider.SENDCLOUD).last_error


# --- Shipup ---------------------------------------------------------------------------------


def test_pushing_to_shipup_holds_the_order_with_its_shipment_once():
    order = order_with_lines(2, reference="E2E-SHIP-1")
    shipped, waiting = order.lines.order_by("pk")
    shipment = ShipmentFactory(order=order, tracking_number="1Z999AA10123456784")
    ShipmentLineFactory(shipment=shipment, order_line=shipped, quantity=2)

    push_order_to_shipup(order)
    stored_once = selectors.shipup_order(f"order-{order.pk}")
    push_order_to_shipup(order)

    stored = selectors.shipup_order(f"order-{order.pk}")
    assert stored == stored_once
    assert SandboxShipupOrder.objects.count() == 1
    assert stored["order_number"] == "E2E-SHIP-1"
    assert [item["merchant_id"] for item in stored["line_items"]] == [f"line-{waiting.pk}"]
    [fulfillment] = stored["fulfillments"]
    assert fulfillment["merchant_id"] == f"shipment-{shipment.pk}"
    assert fulfillment["fulfillment_number"] == "E2E-SHIP-1_1"
    [tracker] = fulfillment["trackers"]
    assert tracker["tracking_number"] == "1Z999AA10123456784"
    assert [(item["merchant_id"], item["shipped_quantity"]) for item in tracker["line_items"]] == [
        (f"line-{shipped.pk}", 2)
    ]
    assert link(order, Provider.SHIPUP).last_success_at is not None


def test_the_shipup_specs_invalid_example_comes_back_as_its_four_lines():
    with pytest.raises(PermanentProviderError) as raised:
        ShipupClient.from_settings().upsert_order(copy.deepcopy(SHIPUP_SPEC_INVALID))

    assert raised.value.status == 400
    assert raised.value.details == [
        "fulfillments[0].country: Wrong data type: given, Hash ({}) expected: String",
        "fulfillments[0].trackers[1].tracking_number: "
        "Wrong data type: given, TrueClass (true) expected: String or Numeric",
        "fulfillments[0].trackers[1].line_items[0].merchant_id: Required",
        "fulfillments[0].line_items[0].canceled: "
        "Wrong data type: given, String (true) expected: TrueClass or FalseClass",
    ]
    assert not SandboxShipupOrder.objects.exists()


# --- Reevoo ---------------------------------------------------------------------------------


def test_submitting_to_reevoo_keeps_the_request_uuid():
    order = OrderFactory(
        reference="E2E-REEVOO-1", ordered_at=datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    )
    OrderLineFactory(order=order, sku="PROD1", unit_price=Decimal("55.99"), config={})
    OrderLineFactory(order=order, sku="PROD2", unit_price=Decimal("10.00"), config={})

    submission = submit_order_to_reevoo(order)

    stored = selectors.reevoo_submissions("E2E-REEVOO-1").get()
    assert submission.id == str(stored.request_id) == link(order, Provider.REEVOO).remote_id
    assert uuid.UUID(submission.id).version == 4
    assert selectors.received("reevoo").get().response_status == 202
    assert stored.payload["order_date"] == "20-11-2026"
    assert [(item["sku"], item["price"]) for item in stored.payload["order_items"]] == [
        ("PROD1", "55,99"),
        ("PROD2", "10"),
    ]


# --- credentials ----------------------------------------------------------------------------


def reevoo_payload():
    return customer_order_payload(order_with_lines(reference="E2E-AUTH-R"), trkref="ORDERHUB")


CALLS_WITH_WRONG_CREDENTIALS = {
    "35up": (
        ThirtyFiveUpClient,
        {"THIRTYFIVEUP_PASSWORD": WRONG_CREDENTIALS["THIRTYFIVEUP_PASSWORD"]},
        lambda client: client.list_orders(reference="E2E-AUTH"),
    ),
    "sendcloud": (
        SendcloudClient,
        {"SENDCLOUD_SECRET_KEY": WRONG_CREDENTIALS["SENDCLOUD_SECRET_KEY"]},
        lambda client: client.list_orders(7),
    ),
    "shipup": (
        ShipupClient,
        {"SHIPUP_API_KEY": WRONG_CREDENTIALS["SHIPUP_API_KEY"]},
        lambda client: client.upsert_order({"merchant_id": "order-auth"}),
    ),
    "reevoo": (
        ReevooClient,
        {"REEVOO_API_SECRET": WRONG_CREDENTIALS["REEVOO_API_SECRET"]},
        lambda client: client.submit_customer_order(reevoo_payload()),
    ),
}


def call_with_wrong_credentials(provider):
    client_class, credentials, call = CALLS_WITH_WRONG_CREDENTIALS[provider]
    client = client_with_credentials(client_class, **credentials)
    with pytest.raises(PermanentProviderError) as raised:
        call(client)
    return raised.value


@pytest.mark.parametrize("provider", CALLS_WITH_WRONG_CREDENTIALS)
def test_wrong_credentials_are_a_permanent_401(provider):
    error = call_with_wrong_credentials(provider)

    assert error.provider == provider
    assert error.status == 401
    assert not error.retryable
    assert selectors.received(provider).get().response_status == 401


# --- faults ---------------------------------------------------------------------------------


def test_a_503_asked_for_by_the_request_is_retryable(session_with_fault):
    client = ThirtyFiveUpClient.from_settings(session=session_with_fault("503"))

    with pytest.raises(RetryableProviderError) as raised:
        client.place_order(place_order_payload(order_with_lines(reference="E2E-503-1")))

    assert raised.value.status == 503
    assert not raised.value.outcome_unknown
    assert not selectors.thirtyfiveup_orders("E2E-503-1").exists()


def test_a_configured_503_holds_only_the_next_call(sandbox):
    sandbox.queue_fault("503", provider="sendcloud", method="POST")
    order = order_with_lines(reference="E2E-503-2")

    [held] = push_orders_to_sendcloud([order])
    [sent] = push_orders_to_sendcloud([order])

    assert isinstance(held.error, RetryableProviderError)
    assert held.error.status == 503
    assert sent.succeeded and selectors.sendcloud_orders(str(order.pk)).exists()
    assert [r.fault for r in selectors.received("sendcloud", method="POST")] == ["503", ""]


def test_a_429_says_when_to_retry(sandbox, session_with_fault):
    sandbox.configure_faults(retry_after_seconds=7)
    client = ShipupClient.from_settings(session=session_with_fault("429"))

    with pytest.raises(ProviderRateLimited) as raised:
        client.upsert_order({"merchant_id": "order-429"})

    assert raised.value.status == 429
    assert raised.value.retry_after == 7.0
    assert raised.value.retryable
    assert not SandboxShipupOrder.objects.exists()


def giving_up_early():
    """The hub waits only READ_TIMEOUT for an answer: around the faulted call only, as a normal
    call on this busy machine may take longer."""
    return override_settings(PROVIDER_READ_TIMEOUT=READ_TIMEOUT)


def test_a_dropped_answer_is_no_answer_although_35up_placed_the_order(sandbox, held_answers):
    sandbox.queue_fault("drop", provider="35up", method="POST")
    order = order_with_lines(reference="E2E-DROP-1")

    with giving_up_early(), pytest.raises(ProviderNoAnswer) as raised:
        place_order_at_35up(order)

    assert raised.value.outcome_unknown and raised.value.retryable
    held_answers.release()
    assert selectors.received("35up").get().response_status == 201
    remote = selectors.thirtyfiveup_orders("E2E-DROP-1").get()
    order.refresh_from_db()
    assert order.thirtyfiveup_id is None
    assert "no answer" in link(order, Provider.THIRTYFIVEUP).last_error
    # How the hub settles it: look the order up by reference before anything is sent again.
    [found] = ThirtyFiveUpClient.from_settings().list_orders(reference="E2E-DROP-1")
    assert found.id == remote.public_id


def test_a_gateway_timeout_is_no_answer_and_35up_placed_nothing(sandbox, held_answers):
    sandbox.queue_fault("timeout", provider="35up", method="POST")
    order = order_with_lines(reference="E2E-TIMEOUT-1")

    with giving_up_early(), pytest.raises(ProviderNoAnswer) as raised:
        place_order_at_35up(order)

    assert raised.value.outcome_unknown
    held_answers.release()
    assert selectors.received("35up").get().response_status == 504
    assert not selectors.thirtyfiveup_orders("E2E-TIMEOUT-1").exists()
    assert ThirtyFiveUpClient.from_settings().list_orders(reference="E2E-TIMEOUT-1") == []


# --- credentials never leave the request ----------------------------------------------------


def rows_as_text(model):
    return json.dumps(list(model.objects.values()), default=str)


def test_credentials_appear_in_no_log_error_or_stored_row(
    sandbox, held_answers, session_with_fault, caplog
):
    caplog.set_level(logging.DEBUG)
    errors = []

    def failing(call):
        with pytest.raises(ProviderError) as raised:
            call()
        errors.append(raised.value)

    order = order_with_lines(2, reference="E2E-LEAK-1")
    place_order_at_35up(order)
    update_35up_order_status(order, "approved", "paid")
    # The approval queued the Sendcloud push: the outbox sends it and keeps the exchange.
    send_due()
    ShipmentLineFactory(
        shipment=ShipmentFactory(order=order), order_line=order.lines.first(), quantity=1
    )
    push_order_to_shipup(order)
    submit_order_to_reevoo(order)
    errors.extend(
        call_with_wrong_credentials(provider) for provider in CALLS_WITH_WRONG_CREDENTIALS
    )
    payload = place_order_payload(order)
    del payload["shippingAddress"]["state"]
    failing(lambda: ThirtyFiveUpClient.from_settings().place_order(payload))
    failing(lambda: ShipupClient.from_settings().upsert_order(SHIPUP_SPEC_INVALID))
    client = SendcloudClient.from_settings(session=session_with_fault("503"))
    failing(lambda: client.list_orders(7))
    sandbox.queue_fault("drop", provider="reevoo", method="POST")
    with giving_up_early():
        failing(lambda: submit_order_to_reevoo(order))
    held_answers.release()

    assert Delivery.objects.exclude(request={}).exists()
    assert len(errors) == 8
    texts = {
        "log": caplog.text,
        "errors": "\n".join(
            f"{error}\n{error.request}\n{error.response_body}\n{error.details}" for error in errors
        ),
        "sandbox requests": rows_as_text(SandboxRequest),
        "provider links": rows_as_text(ProviderLink),
        "deliveries": rows_as_text(Delivery),
    }
    secrets = secrets_of(CREDENTIALS) + secrets_of({**CREDENTIALS, **WRONG_CREDENTIALS})
    leaks = [
        (where, secret) for where, text in texts.items() for secret in secrets if secret in text
    ]
    assert leaks == []
    # The credentials travelled: each store shows where it masked them.
    assert '"Authorization": "[redacted]"' in texts["sandbox requests"]
    assert '"Authorization": "***"' in texts["deliveries"]
