"""Every error of every endpoint in one format ({code, message, field_errors}); bodies that are
not JSON objects, too big or unstorable are refused before any service sees them."""

import io
import json
from unittest import mock

import pytest
from django.db import OperationalError
from django.test import RequestFactory

from api.parsers import BoundedJSONParser, RequestTooLarge
from api.schema import INGEST_DOCUMENT
from orders.models import Order, OrderLine
from tests.factories import order_in_status

pytestmark = pytest.mark.django_db


def assert_error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) >= {"code", "message", "field_errors"}
    assert body["code"] == code
    assert body["message"]
    return body


def test_an_unknown_path_under_the_api(api):
    assert_error(api.get("/api/v1/nothing/here"), 404, "not_found")
    assert_error(api.get("/api/v2/orders/"), 404, "not_found")


@pytest.mark.parametrize(
    "url",
    [
        "/api/v1/orders/999/",
        "/api/v1/orders/99999999999999999999999/",
        "/api/v1/orders/by-reference/NOPE/",
        "/api/v1/returns/9223372036854775808/",
        "/api/v1/deliveries/0/",
        # Digits to str.isdigit(), not to int(): once a 500.
        "/api/v1/orders/%C2%B2/",
        "/api/v1/returns/%D9%A3/",
        "/api/v1/deliveries/%C2%B9/",
    ],
)
def test_a_record_that_does_not_exist(api, url):
    assert_error(api.get(url), 404, "not_found")


def test_a_method_the_endpoint_does_not_have(api):
    order = order_in_status("pending")
    assert_error(api.delete(f"/api/v1/orders/{order.pk}/"), 405, "method_not_allowed")
    assert_error(api.post("/api/v1/deliveries/", {}), 405, "method_not_allowed")
    assert Order.objects.filter(pk=order.pk).exists()


def test_a_body_that_is_not_json(api):
    response = api.generic("POST", "/api/v1/orders/", "reference=x", "text/plain")
    assert_error(response, 415, "unsupported_media_type")
    response = api.generic("POST", "/api/v1/orders/", "{not json", "application/json")
    body = assert_error(response, 400, "parse_error")
    assert body["message"].startswith("The body is not valid JSON")


@pytest.mark.parametrize("document", [[INGEST_DOCUMENT], "order", 42, None])
def test_an_ingest_body_that_is_not_an_object(api, document):
    response = api.generic("POST", "/api/v1/orders/", json.dumps(document), "application/json")
    body = assert_error(response, 400, "action_refused")
    assert body["field_errors"] == {"": ["The body must be a JSON object: one order document."]}
    assert not Order.objects.exists()


def test_a_body_over_the_limit_is_refused_with_413(api, settings):
    settings.API_MAX_BODY_BYTES = 1_000
    document = {**INGEST_DOCUMENT, "session": "x" * 2_000}
    body = assert_error(api.post("/api/v1/orders/", document), 413, "request_too_large")
    assert "1000 bytes" in body["message"]
    assert not Order.objects.exists()


def test_a_body_longer_than_it_declares_is_read_only_up_to_the_limit(settings):
    # The test client cannot send a body longer than its Content-Length, so the parser is given
    # such a stream directly: it reads one byte past the limit and stops.
    settings.API_MAX_BODY_BYTES = 1_000
    stream = io.BytesIO(json.dumps({**INGEST_DOCUMENT, "session": "x" * 5_000}).encode())
    request = RequestFactory().post("/api/v1/orders/", CONTENT_LENGTH="10")

    with pytest.raises(RequestTooLarge, match="larger than 1000 bytes"):
        BoundedJSONParser().parse(stream, parser_context={"request": request})
    assert stream.tell() == 1_001


def test_a_database_failure_during_ingest_is_the_hubs_500_not_a_refused_document(api, caplog):
    with mock.patch.object(
        OrderLine.objects, "bulk_create", side_effect=OperationalError("server closed")
    ):
        response = api.post("/api/v1/orders/", INGEST_DOCUMENT)
    body = assert_error(response, 500, "server_error")
    assert "server closed" not in body["message"]
    assert not Order.objects.exists()


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ('{"reference": "A\\u0000B"}', "NUL"),
        ('{"ref\\u0000erence": "AB"}', "NUL"),
        ('{"reference": "\\ud800"}', "surrogates"),
        ('{"reference": NaN}', "not valid JSON"),
        ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
    ],
)
def test_text_no_database_can_store_is_refused(api, raw, message):
    response = api.generic("POST", "/api/v1/orders/", raw, "application/json")
    body = assert_error(response, 400, "parse_error")
    assert message in body["message"]


def test_a_query_parameter_with_nul_is_refused(api):
    body = assert_error(api.get("/api/v1/orders/?reference=A%00B"), 400, "invalid")
    assert "reference" in body["field_errors"]


def test_validation_errors_come_field_by_field(api):
    order = order_in_status("approved")
    body = assert_error(
        api.post(
            f"/api/v1/orders/{order.pk}/shipments/",
            {"tracking_number": "", "lines": [{"line_id": "x", "quantity": 0}]},
        ),
        400,
        "invalid",
    )
    assert body["field_errors"] == {
        "tracking_number": ["This field may not be blank."],
        "lines[0].line_id": ["A valid integer is required."],
        "lines[0].quantity": ["Ensure this value is greater than or equal to 1."],
    }
    assert body["message"] == "tracking_number: This field may not be blank. (and 2 more)"


def test_a_body_that_is_not_an_object_for_a_request(api):
    order = order_in_status("pending")
    body = assert_error(
        api.post(f"/api/v1/orders/{order.pk}/transitions/", ["approve"]), 400, "invalid"
    )
    assert list(body["field_errors"]) == [""]


def test_an_unexpected_failure_answers_500_in_the_same_format(api, caplog):
    with mock.patch("api.views.provider_syncs_by_order", side_effect=RuntimeError("boom")):
        response = api.get("/api/v1/orders/")
    body = assert_error(response, 500, "server_error")
    assert "boom" not in body["message"]
    assert "API request failed" in caplog.text


def test_a_post_to_a_path_that_names_no_endpoint_is_a_json_404_not_a_csrf_page(api):
    assert_error(
        api.post("/api/v1/orders/1.5/transitions/", {"action": "approve"}), 404, "not_found"
    )
