"""The four clients over HTTP (mocked with `responses`): auth, headers, timeouts, errors."""

import base64
import json
import logging
import socket
from datetime import UTC, datetime

import pytest
import requests
import responses
from responses import matchers

from integrations.errors import (
    PermanentProviderError,
    ProviderDisabled,
    ProviderError,
    ProviderNoAnswer,
    ProviderRateLimited,
    ProviderUnreachable,
    RetryableProviderError,
)
from integrations.http import redact_headers
from integrations.providers import Provider
from integrations.reevoo.client import ReevooClient
from integrations.sendcloud.client import SendcloudClient
from integrations.shipup.client import ShipupClient
from integrations.thirtyfiveup.client import ThirtyFiveUpClient
from tests.integrations.conftest import CREDENTIALS
from tests.integrations.golden_json import golden

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("provider_settings")]

THIRTYFIVEUP = "https://api.35up.test/v1"
SENDCLOUD = "https://panel.sendcloud.test/api/v3"
SHIPUP = "https://api.shipup.test"
REEVOO = "https://api.reevoo.test/v4"


def basic(user, password):
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


@responses.activate
def test_35up_place_order_sends_basic_auth_user_agent_session_and_timeouts():
    responses.post(
        f"{THIRTYFIVEUP}/orders",
        json=golden("35up-order-answer.json"),
        status=201,
        match=[matchers.query_param_matcher({"session": "123abc"})],
    )

    placed = ThirtyFiveUpClient.from_settings().place_order(golden("35up-order.json"))

    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == basic("seller-user", "35up-Secret-Pass")
    assert sent.headers["User-Agent"] == "order-hub/0.1.0"
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.req_kwargs["timeout"] == (3.0, 12.0)
    assert json.loads(sent.body) == golden("35up-order.json")
    assert (placed.id, placed.status) == ("42CA346434", "approved")
    assert placed.updated_at == datetime.fromtimestamp(1603375967, tz=UTC)


@responses.activate
def test_35up_status_update_and_reads_use_the_real_paths():
    answer = golden("35up-order-answer.json")
    responses.patch(
        f"{THIRTYFIVEUP}/orders/42CA346434",
        json=answer,
        match=[matchers.json_params_matcher(golden("35up-order-status.json"))],
    )
    responses.get(f"{THIRTYFIVEUP}/orders/42CA346434", json=answer)
    responses.get(
        f"{THIRTYFIVEUP}/orders",
        json=[answer],
        match=[
            matchers.query_param_matcher(
                {"reference": "Order74927943", "limit": "100", "offset": "0"}
            )
        ],
    )
    client = ThirtyFiveUpClient.from_settings()

    client.update_order_status("42CA346434", golden("35up-order-status.json"))
    assert client.get_order("42CA346434").id == "42CA346434"
    assert [o.id for o in client.list_orders(reference="Order74927943")] == ["42CA346434"]


@responses.activate
def test_35up_returns_use_the_real_paths():
    answer = {"id": "R1", "status": "created", "createdAt": "1603375967", "updatedAt": "1603375967"}
    responses.post(
        f"{THIRTYFIVEUP}/returns",
        json=answer,
        status=201,
        match=[matchers.json_params_matcher(golden("35up-return.json"))],
    )
    responses.patch(
        f"{THIRTYFIVEUP}/returns/R1",
        json={**answer, "status": "cancelled"},
        match=[matchers.json_params_matcher({"status": "cancelled"})],
    )
    responses.get(f"{THIRTYFIVEUP}/returns/R1", json={**answer, "status": "cancelled"})
    client = ThirtyFiveUpClient.from_settings()

    assert client.request_return(golden("35up-return.json")).status == "created"
    assert client.update_return_status("R1", {"status": "cancelled"}).status == "cancelled"
    assert client.get_return("R1").status == "cancelled"


@responses.activate
def test_35up_field_errors_are_flattened():
    responses.post(
        f"{THIRTYFIVEUP}/orders",
        status=400,
        json={
            "errors": {
                "items": [{"sku": ["Unknown SKU"]}],
                "shippingAddress": {"state": "Required"},
            }
        },
    )

    with pytest.raises(PermanentProviderError) as raised:
        ThirtyFiveUpClient.from_settings().place_order(golden("35up-order.json"))

    assert raised.value.status == 400
    assert raised.value.details == ["items[0].sku: Unknown SKU", "shippingAddress.state: Required"]
    assert not raised.value.retryable


@responses.activate
def test_sendcloud_upsert_posts_the_array_with_basic_auth():
    responses.post(
        f"{SENDCLOUD}/orders/",
        json=golden("sendcloud-orders-answer.json"),
        status=201,
        match=[matchers.json_params_matcher(golden("sendcloud-orders.json"))],
    )

    refs = SendcloudClient.from_settings().upsert_orders(golden("sendcloud-orders.json"))

    assert responses.calls[0].request.headers["Authorization"] == basic(
        "sc-public-key-123", "sc-Secret-Key-456"
    )
    assert [(r.id, r.order_id, r.order_number) for r in refs] == [("664", "555413", "OXSDFGHTD-12")]


def test_sendcloud_batches_hold_at_most_100_orders():
    with pytest.raises(PermanentProviderError):
        SendcloudClient.from_settings().upsert_orders([{"order_id": str(n)} for n in range(101)])


@responses.activate
def test_sendcloud_list_follows_the_cursor_in_the_link_header():
    def page(order_id):
        return {"data": [{"id": order_id, "order_id": f"o{order_id}", "order_number": "N"}]}

    responses.get(
        f"{SENDCLOUD}/orders/",
        json=page("1"),
        headers={"Link": f'<{SENDCLOUD}/orders/?integration=7&cursor=abc>; rel="next"'},
        match=[matchers.query_param_matcher({"integration": "7"})],
    )
    responses.get(
        f"{SENDCLOUD}/orders/",
        json=page("2"),
        match=[matchers.query_param_matcher({"integration": "7", "cursor": "abc"})],
    )

    refs = SendcloudClient.from_settings().list_orders(7)

    assert [r.id for r in refs] == ["1", "2"]


@responses.activate
def test_sendcloud_never_follows_a_link_to_another_host():
    responses.get(
        f"{SENDCLOUD}/orders/",
        json={"data": []},
        headers={"Link": '<https://evil.test/orders/?cursor=x>; rel="next"'},
    )

    with pytest.raises(PermanentProviderError):
        SendcloudClient.from_settings().list_orders(7)

    assert len(responses.calls) == 1


@responses.activate
def test_sendcloud_json_api_errors_become_lines_with_pointers():
    responses.post(
        f"{SENDCLOUD}/orders/",
        status=400,
        json={
            "errors": [
                {
                    "status": "400",
                    "code": "invalid",
                    "title": "Invalid",
                    "detail": "Not a valid country code.",
                    "source": {"pointer": "/0/shipping_address/country_code"},
                },
                {"status": "400", "code": "required", "title": "This field is required."},
            ]
        },
    )

    with pytest.raises(PermanentProviderError) as raised:
        SendcloudClient.from_settings().upsert_orders(golden("sendcloud-orders.json"))

    assert raised.value.details == [
        "/0/shipping_address/country_code: Not a valid country code. (invalid)",
        "This field is required. (required)",
    ]


@responses.activate
def test_a_429_with_retry_after_is_retryable_and_says_when():
    responses.post(f"{SENDCLOUD}/orders/", status=429, headers={"Retry-After": "7"}, json={})

    with pytest.raises(ProviderRateLimited) as raised:
        SendcloudClient.from_settings().upsert_orders(golden("sendcloud-orders.json"))

    assert raised.value.retryable
    assert raised.value.retry_after == 7.0
    assert raised.value.status == 429


@pytest.mark.parametrize(
    ("status", "kind"),
    [
        (500, RetryableProviderError),
        (503, RetryableProviderError),
        (408, RetryableProviderError),
        (409, RetryableProviderError),
        (400, PermanentProviderError),
        (401, PermanentProviderError),
        (402, PermanentProviderError),
        (404, PermanentProviderError),
        (422, PermanentProviderError),
    ],
)
@responses.activate
def test_http_statuses_fall_into_retryable_and_permanent(status, kind):
    responses.post(f"{SHIPUP}/v2/orders", status=status, body="")

    with pytest.raises(kind) as raised:
        ShipupClient.from_settings().upsert_order({"merchant_id": "order-1"})

    assert raised.value.retryable is (kind is RetryableProviderError)
    assert not raised.value.outcome_unknown


@responses.activate
def test_shipup_sends_the_bearer_key_and_its_400_is_flattened_like_the_spec():
    responses.post(f"{SHIPUP}/v2/orders", status=400, json=golden("shipup-error-400.json"))

    with pytest.raises(PermanentProviderError) as raised:
        ShipupClient.from_settings().upsert_order(golden("shipup-order-valid.json"))

    assert responses.calls[0].request.headers["Authorization"] == "Bearer shipup-Private-Key-789"
    assert raised.value.details == [
        "fulfillments[0].country: Wrong data type: given, Hash ({}) expected: String",
        "fulfillments[0].trackers[1].tracking_number: Wrong data type: given, TrueClass (true) "
        "expected: String or Numeric",
        "fulfillments[0].trackers[1].line_items[0].merchant_id: Required",
        "fulfillments[0].line_items[0].canceled: Wrong data type: given, String (true) "
        "expected: TrueClass or FalseClass",
    ]


@responses.activate
def test_shipup_upsert_answer():
    responses.post(f"{SHIPUP}/v2/orders", status=201, json={"id": 991, "merchant_id": "order-1"})

    ref = ShipupClient.from_settings().upsert_order({"merchant_id": "order-1"})

    assert (ref.id, ref.merchant_id) == ("991", "order-1")


@responses.activate
def test_reevoo_posts_to_the_organisation_path_with_basic_auth():
    responses.post(
        f"{REEVOO}/organisations/TRKREF123/customer_order",
        status=202,
        json={"status": "accepted", "id": "0b8a4e1c-2f7a-4d3e-9a55-6c1f0e2d9b41", "message": "OK"},
    )

    submission = ReevooClient.from_settings().submit_customer_order(
        golden("reevoo-customer-order.json")
    )

    assert responses.calls[0].request.headers["Authorization"] == basic(
        "reevoo-key-abc", "reevoo-Secret-def"
    )
    assert submission.id == "0b8a4e1c-2f7a-4d3e-9a55-6c1f0e2d9b41"


@responses.activate
def test_reevoo_errors_keep_message_and_lines():
    responses.post(
        f"{REEVOO}/organisations/TRKREF123/customer_order",
        status=422,
        json={"status": 422, "message": "Invalid order", "errors": ["order_date: invalid format"]},
    )

    with pytest.raises(PermanentProviderError) as raised:
        ReevooClient.from_settings().submit_customer_order(golden("reevoo-customer-order.json"))

    assert raised.value.details == ["Invalid order", "order_date: invalid format"]


@responses.activate
def test_a_read_timeout_means_the_request_may_have_been_received():
    responses.post(f"{REEVOO}/organisations/TRKREF123/customer_order", body=requests.ReadTimeout())

    with pytest.raises(ProviderNoAnswer) as raised:
        ReevooClient.from_settings().submit_customer_order(golden("reevoo-customer-order.json"))

    assert raised.value.retryable and raised.value.outcome_unknown


@responses.activate
def test_a_connect_timeout_means_nothing_was_sent():
    responses.post(f"{THIRTYFIVEUP}/orders", body=requests.ConnectTimeout())

    with pytest.raises(ProviderUnreachable) as raised:
        ThirtyFiveUpClient.from_settings().place_order(golden("35up-order.json"))

    assert raised.value.retryable and not raised.value.outcome_unknown


@pytest.mark.parametrize(
    ("raised_by_requests", "kind"),
    [
        (requests.exceptions.SSLError("handshake failed"), ProviderUnreachable),
        (requests.ConnectionError("Connection aborted: RemoteDisconnected"), ProviderNoAnswer),
    ],
)
@responses.activate
def test_connection_errors_say_whether_the_request_went_out(raised_by_requests, kind):
    responses.post(f"{THIRTYFIVEUP}/orders", body=raised_by_requests)

    with pytest.raises(kind):
        ThirtyFiveUpClient.from_settings().place_order(golden("35up-order.json"))


def test_a_refused_connection_means_nothing_was_sent(settings):
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    settings.THIRTYFIVEUP_BASE_URL = f"http://127.0.0.1:{port}/v1"

    with pytest.raises(ProviderUnreachable) as raised:
        ThirtyFiveUpClient.from_settings().get_order("42CA346434")

    assert not raised.value.outcome_unknown


@pytest.mark.parametrize(
    ("provider", "setting", "client_class"),
    [
        (Provider.THIRTYFIVEUP, "THIRTYFIVEUP_PASSWORD", ThirtyFiveUpClient),
        (Provider.SENDCLOUD, "SENDCLOUD_INTEGRATION_ID", SendcloudClient),
        (Provider.SHIPUP, "SHIPUP_API_KEY", ShipupClient),
        (Provider.REEVOO, "REEVOO_TRKREF", ReevooClient),
    ],
)
def test_a_provider_without_credentials_is_disabled(settings, provider, setting, client_class):
    setattr(settings, setting, None if setting == "SENDCLOUD_INTEGRATION_ID" else "")

    with pytest.raises(ProviderDisabled) as raised:
        client_class.from_settings()

    assert str(raised.value) == f"{provider}: Disabled: {setting} not configured."
    assert not raised.value.retryable


@responses.activate
def test_credentials_never_appear_in_errors_logs_or_stored_requests(caplog):
    def echo_credentials(request):
        # A careless provider that echoes the Authorization header back in its error.
        return 500, {}, json.dumps({"message": f"bad auth {request.headers['Authorization']}"})

    responses.add_callback(responses.POST, f"{THIRTYFIVEUP}/orders", callback=echo_credentials)
    responses.add_callback(responses.POST, f"{SHIPUP}/v2/orders", callback=echo_credentials)
    caplog.set_level(logging.DEBUG)
    raised = []
    for call in (
        lambda: ThirtyFiveUpClient.from_settings().place_order(golden("35up-order.json")),
        lambda: ShipupClient.from_settings().upsert_order({"merchant_id": "order-1"}),
    ):
        with pytest.raises(ProviderError) as error:
            call()
        raised.append(error.value)

    stored = [
        str(error) + json.dumps(error.request) + error.response_body + "\n".join(error.details)
        for error in raised
    ]
    everything = "\n".join([*stored, caplog.text])
    secrets = [*CREDENTIALS.values(), basic("seller-user", "35up-Secret-Pass").split()[1]]
    assert [secret for secret in secrets if secret in everything] == []
    assert raised[0].request["headers"]["Authorization"] == "***"
    assert "bad auth Basic ***" in raised[0].details[0]


def test_redact_headers_keeps_an_allowlist_and_masks_auth_and_cookies():
    redacted = redact_headers(
        {
            "Authorization": "Bearer shipup-Private-Key-789",
            "Cookie": "sessionid=abc",
            "User-Agent": "order-hub/0.1.0",
            "Content-Type": "application/json",
            "X-Api-Key": "leaked",
        }
    )

    assert redacted == {
        "Authorization": "***",
        "Cookie": "***",
        "User-Agent": "order-hub/0.1.0",
        "Content-Type": "application/json",
    }
