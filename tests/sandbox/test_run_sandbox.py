"""manage.py run_sandbox: serve on its own port with faults set, or move an order on."""

import io

import pytest
from django.core.management import CommandError, call_command

from sandbox.management.commands import run_sandbox
from sandbox.models import SandboxFaults
from sandbox.server import QuietRequestHandler, SandboxRequestHandler

from .test_thirtyfiveup_orders import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def served(monkeypatch):
    """Stands in for the blocking server: binds nothing, reports the port it was given."""
    calls = []

    def fake_serve(host, port, application, on_bind):
        calls.append({"host": host, "port": port, "app": application})
        on_bind(port)

    monkeypatch.setattr(run_sandbox, "serve", fake_serve)
    return calls


def run(*args):
    out = io.StringIO()
    call_command("run_sandbox", *args, stdout=out)
    return out.getvalue()


def test_it_prints_the_four_base_urls_and_serves(served):
    output = run("--port", "8020")

    assert served[0]["port"] == 8020
    for line in (
        "THIRTYFIVEUP_BASE_URL=http://127.0.0.1:8020/sandbox/35up/v1",
        "SENDCLOUD_BASE_URL=http://127.0.0.1:8020/sandbox/sendcloud/api/v3",
        "SHIPUP_BASE_URL=http://127.0.0.1:8020/sandbox/shipup",
        "REEVOO_BASE_URL=http://127.0.0.1:8020/sandbox/reevoo/v4",
        "Faults: none",
    ):
        assert line in output


def test_fault_options_are_stored_for_every_sandbox_process(served):
    output = run("--error-rate", "0.1", "--rate-limit-rate", "0.05", "--latency-ms", "20")

    faults = SandboxFaults.load()
    assert (faults.error_rate, faults.rate_limit_rate, faults.latency_ms) == (0.1, 0.05, 20)
    assert "Faults: {'error_rate': 0.1, 'rate_limit_rate': 0.05, 'latency_ms': 20}" in output


def test_ignore_list_filters_is_stored_and_left_alone_when_not_given(served):
    output = run("--ignore-list-filters")

    assert SandboxFaults.load().ignore_list_filters is True
    assert "Faults: {'ignore_list_filters': True}" in output
    run("--latency-ms", "5")
    assert SandboxFaults.load().ignore_list_filters is True
    run("--no-ignore-list-filters")
    assert SandboxFaults.load().ignore_list_filters is False


def test_omit_order_returns_is_stored_and_left_alone_when_not_given(served):
    output = run("--omit-order-returns")

    assert SandboxFaults.load().omit_order_returns is True
    assert "Faults: {'omit_order_returns': True}" in output
    run("--latency-ms", "5")
    assert SandboxFaults.load().omit_order_returns is True
    run("--no-omit-order-returns")
    assert SandboxFaults.load().omit_order_returns is False


def test_impossible_fault_options_stop_it(served):
    with pytest.raises(CommandError):
        run("--error-rate", "0.9", "--drop-rate", "0.9")
    assert served == []


def test_only_sandbox_paths_are_served(served):
    run()
    application = served[0]["app"]
    answers = []

    body = application({"PATH_INFO": "/admin/"}, lambda status, headers: answers.append(status))

    assert answers == ["404 Not Found"]
    assert body == [b"Only /sandbox/ is served here.\n"]


def test_it_moves_an_order_on_and_exits(thirtyfiveup, served):
    order_id = place(thirtyfiveup)["id"]

    assert run("--advance-order", order_id) == f"35up order {order_id} is now approved\n"
    assert run("--advance-order", order_id, "--to", "delivered").endswith("now delivered\n")
    assert served == []
    with pytest.raises(CommandError, match=r"^id: no order with id NOPE$"):
        run("--advance-order", "NOPE")


def test_it_refuses_to_run_when_the_sandbox_is_disabled(settings, served):
    settings.SANDBOX_ENABLED = False

    with pytest.raises(CommandError, match="SANDBOX_ENABLED"):
        run()


def test_the_server_answers_without_waiting_for_delayed_acks():
    """Headers and body leave in separate writes: Nagle's algorithm would hold the body ~40 ms."""
    assert SandboxRequestHandler.disable_nagle_algorithm
    assert QuietRequestHandler.disable_nagle_algorithm
