"""Fault injection: per request by header, queued, or drawn at configured rates."""

import random

import pytest

from sandbox import faults, selectors
from sandbox.models import SandboxFaults, SandboxOrder, SandboxSendcloudOrder

from .test_sendcloud import SPEC_ORDER
from .test_thirtyfiveup_orders import order_body

pytestmark = pytest.mark.django_db


def place(thirtyfiveup, fault=None):
    headers = {"X-Sandbox-Fault": fault} if fault else None
    return thirtyfiveup.post("/orders", order_body(), headers=headers)


@pytest.mark.parametrize("status", ["500", "503"])
def test_server_errors_apply_nothing(thirtyfiveup, status):
    response = place(thirtyfiveup, status)

    assert response.status_code == int(status)
    assert response.json() == {"errors": {"request": "Injected fault: server error"}}
    assert SandboxOrder.objects.count() == 0
    assert selectors.received("35up").get().fault == status


def test_a_server_error_comes_in_the_providers_shape(sendcloud):
    response = sendcloud.post("/orders/", [SPEC_ORDER], headers={"X-Sandbox-Fault": "503"})

    assert response.status_code == 503
    assert response.json()["errors"][0]["status"] == "503"
    assert SandboxSendcloudOrder.objects.count() == 0


def test_429_says_when_to_retry_and_applies_nothing(thirtyfiveup, control):
    control.post("/faults", {"retry_after_seconds": 7})

    response = place(thirtyfiveup, "429")

    assert response.status_code == 429
    assert response["Retry-After"] == "7"
    assert SandboxOrder.objects.count() == 0


def test_a_timeout_waits_then_answers_504_without_applying(thirtyfiveup, control, sleeps):
    control.post("/faults", {"timeout_seconds": 2.5})

    response = place(thirtyfiveup, "timeout")

    assert sleeps == [2.5]
    assert response.status_code == 504
    assert SandboxOrder.objects.count() == 0


def test_a_drop_applies_the_change_then_waits_past_the_clients_timeout(
    thirtyfiveup, settings, sleeps
):
    settings.PROVIDER_READ_TIMEOUT = 12.0

    response = place(thirtyfiveup, "drop")

    assert sleeps == [13.0]
    assert response.status_code == 201
    assert SandboxOrder.objects.get().public_id == response.json()["id"]


def test_latency_delays_a_normal_answer(thirtyfiveup, sleeps):
    response = place(thirtyfiveup, "latency=250")

    assert sleeps == [0.25]
    assert response.status_code == 201


def test_latency_and_a_fault_combine(thirtyfiveup, sleeps):
    response = place(thirtyfiveup, "latency=100, 503")

    assert sleeps == [0.1]
    assert response.status_code == 503


def test_an_unknown_fault_header_is_a_sandbox_error(thirtyfiveup):
    response = place(thirtyfiveup, "explode")

    assert response.status_code == 400
    assert "unknown fault 'explode'" in response.json()["sandbox_error"]
    assert SandboxOrder.objects.count() == 0


def test_a_seeded_error_rate_fails_a_reproducible_share_of_requests(thirtyfiveup, control):
    control.post("/faults", {"error_rate": 0.2, "seed": 42})
    replay = random.Random(42)
    expected = [replay.random() < 0.2 for _ in range(100)]

    failed = [place(thirtyfiveup).status_code == 500 for _ in range(100)]

    assert failed == expected
    assert 10 <= sum(failed) <= 30
    assert SandboxOrder.objects.count() == 100 - sum(failed)


def test_saving_the_configuration_again_restarts_the_sequence(thirtyfiveup, control):
    control.post("/faults", {"rate_limit_rate": 0.5, "seed": 7})
    first = [place(thirtyfiveup).status_code for _ in range(20)]
    control.post("/faults", {"seed": 7})
    second = [place(thirtyfiveup).status_code for _ in range(20)]

    assert first == second
    assert set(first) == {201, 429}


def test_the_rates_share_one_draw(thirtyfiveup, control, sleeps):
    control.post(
        "/faults",
        {
            "error_rate": 0.25,
            "timeout_rate": 0.25,
            "rate_limit_rate": 0.25,
            "drop_rate": 0.25,
            "seed": 1,
        },
    )

    statuses = {place(thirtyfiveup).status_code for _ in range(40)}

    assert statuses == {500, 504, 429, 201}


def test_queued_faults_hit_the_next_matching_requests_in_order(thirtyfiveup, sendcloud, control):
    control.post("/faults", {"queue": [{"fault": "503", "provider": "35up"}, {"fault": "500"}]})

    assert sendcloud.post("/orders/", [SPEC_ORDER]).status_code == 500
    assert place(thirtyfiveup).status_code == 503
    assert place(thirtyfiveup).status_code == 201
    assert control.get("/faults").json()["queue"] == []


def test_the_fault_configuration_is_read_changed_and_reset(control, settings):
    settings.PROVIDER_READ_TIMEOUT = 30.0

    assert control.get("/faults").json() == {
        "error_rate": 0.0,
        "timeout_rate": 0.0,
        "rate_limit_rate": 0.0,
        "drop_rate": 0.0,
        "latency_ms": 0,
        "retry_after_seconds": 1,
        "timeout_seconds": 31.0,
        "seed": None,
        "queue": [],
        "ignore_list_filters": False,
        "omit_order_returns": False,
    }
    assert control.post("/faults", {"latency_ms": 40}).json()["latency_ms"] == 40
    assert control.delete("/faults").json()["latency_ms"] == 0


@pytest.mark.parametrize(
    "change",
    [
        {"error_rate": 0.6, "drop_rate": 0.6},
        {"error_rate": 1.5},
        {"latency_ms": -1},
        {"chaos": True},
        {"queue": [{"fault": "418"}]},
        {"ignore_list_filters": "yes"},
        {"omit_order_returns": "yes"},
    ],
)
def test_impossible_configurations_are_refused(control, change):
    response = control.post("/faults", change)

    assert response.status_code == 400
    assert "error" in response.json()
    assert control.get("/faults").json()["error_rate"] == 0.0


def test_ignoring_list_filters_is_switched_on_and_off_with_the_faults(control):
    assert control.post("/faults", {"ignore_list_filters": True}).json()["ignore_list_filters"]
    assert SandboxFaults.load().ignore_list_filters is True
    assert control.post("/faults", {"latency_ms": 5}).json()["ignore_list_filters"] is True

    assert control.delete("/faults").json()["ignore_list_filters"] is False
    assert faults.configure_faults(ignore_list_filters=True).ignore_list_filters is True
    assert control.post("/reset").json()["ignore_list_filters"] is False


def test_omitting_order_returns_is_switched_on_and_off_with_the_faults(control):
    assert control.post("/faults", {"omit_order_returns": True}).json()["omit_order_returns"]
    assert SandboxFaults.load().omit_order_returns is True
    assert control.post("/faults", {"latency_ms": 5}).json()["omit_order_returns"] is True

    assert control.delete("/faults").json()["omit_order_returns"] is False
    assert faults.configure_faults(omit_order_returns=True).omit_order_returns is True
    assert control.post("/reset").json()["omit_order_returns"] is False


def test_configured_latency_applies_to_every_request(thirtyfiveup, sleeps):
    faults.configure_faults(latency_ms=30)

    place(thirtyfiveup)
    place(thirtyfiveup)

    assert sleeps == [0.03, 0.03]


def test_control_endpoints_are_never_faulted_nor_recorded(control):
    faults.configure_faults(error_rate=1.0)

    assert control.get("/faults").status_code == 200
    assert selectors.received("35up").count() == 0


def test_the_reset_endpoint_forgets_everything(thirtyfiveup, control):
    place(thirtyfiveup)
    faults.configure_faults(error_rate=0.5)

    assert control.post("/reset").status_code == 200

    assert SandboxOrder.objects.count() == 0
    assert selectors.received("35up").count() == 0
    assert control.get("/faults").json()["error_rate"] == 0.0
