"""What the sandbox keeps of a request: enough to assert on, never a credential."""

import base64

import pytest
from django.core import serializers

from sandbox import models, selectors

from .test_reevoo import PATH as REEVOO_PATH
from .test_reevoo import SUBMISSION
from .test_sendcloud import SPEC_ORDER
from .test_shipup import VALID
from .test_thirtyfiveup_orders import order_body

pytestmark = pytest.mark.django_db


def test_a_request_is_kept_with_its_body_answer_and_allowed_headers(thirtyfiveup):
    response = thirtyfiveup.post(
        "/orders?session=s1", order_body(), headers={"User-Agent": "order-hub/0.1", "X-Other": "x"}
    )

    [kept] = selectors.received("35up", method="post")
    assert (kept.provider, kept.method, kept.path) == (
        "35up",
        "POST",
        "/sandbox/35up/v1/orders?session=s1",
    )
    assert kept.body == order_body()
    assert kept.response_status == 201
    assert kept.response_body == response.json()
    assert set(kept.headers) == {"Content-Type", "Content-Length", "User-Agent", "Authorization"}
    assert kept.headers["User-Agent"] == "order-hub/0.1"
    assert kept.headers["Authorization"] == "[redacted]"


def test_a_body_that_is_not_json_is_kept_as_text(thirtyfiveup):
    thirtyfiveup.post("/orders", raw="<xml/>")

    kept = selectors.received("35up").get()
    assert (kept.body, kept.body_text, kept.response_status) == (None, "<xml/>", 400)


def test_nothing_stored_contains_a_credential(thirtyfiveup, sendcloud, shipup, reevoo, settings):
    thirtyfiveup.post("/orders", order_body())
    thirtyfiveup.post("/orders", order_body(), authorization="Basic c2FuZGJveC11c2VyOndyb25n")
    sendcloud.post("/orders/", [SPEC_ORDER])
    shipup.post("/v2/orders", VALID)
    shipup.post("/v2/orders", VALID, authorization="Bearer guessed-key")
    reevoo.post(REEVOO_PATH, SUBMISSION, headers={"Cookie": "sessionid=abc"})

    stored = serializers.serialize(
        "json",
        [
            *models.SandboxRequest.objects.all(),
            *models.SandboxOrder.objects.all(),
            *models.SandboxSendcloudOrder.objects.all(),
            *models.SandboxShipupOrder.objects.all(),
            *models.SandboxReevooSubmission.objects.all(),
        ],
    )
    secrets = [
        settings.THIRTYFIVEUP_PASSWORD,
        settings.SENDCLOUD_SECRET_KEY,
        settings.SHIPUP_API_KEY,
        settings.REEVOO_API_SECRET,
        "guessed-key",
        "wrong",
        "sessionid",
        base64.b64encode(f"sandbox-user:{settings.THIRTYFIVEUP_PASSWORD}".encode()).decode(),
    ]
    assert models.SandboxRequest.objects.count() == 6
    assert [secret for secret in secrets if secret in stored] == []
    assert "[redacted]" in stored
