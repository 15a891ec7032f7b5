"""Fixtures for the end-to-end tests: the real provider clients over HTTP against the sandbox,
served by pytest-django's live server (a thread of this process that shares the test database
and reads the same settings object)."""

import base64
import threading

import pytest
import requests
from django.conf import settings as django_settings
from django.db import DEFAULT_DB_ALIAS, connections

from sandbox import faults
from sandbox.endpoints import CONTROL_TOKEN_HEADER

# Values used nowhere else, so that a leak found by these tests can only come from these calls.
CREDENTIALS = {
    "THIRTYFIVEUP_USERNAME": "e2e-35up-seller",
    "THIRTYFIVEUP_PASSWORD": "e2e-35up-Pass-91c4",
    "SENDCLOUD_PUBLIC_KEY": "e2e-sendcloud-Public-5d2e",
    "SENDCLOUD_SECRET_KEY": "e2e-sendcloud-Secret-a7f0",
    "SHIPUP_API_KEY": "e2e-shipup-Private-3b88",
    "REEVOO_API_KEY": "e2e-reevoo-Key-64aa",
    "REEVOO_API_SECRET": "e2e-reevoo-Secret-0e19",
}
BASIC_PAIRS = [
    ("THIRTYFIVEUP_USERNAME", "THIRTYFIVEUP_PASSWORD"),
    ("SENDCLOUD_PUBLIC_KEY", "SENDCLOUD_SECRET_KEY"),
    ("REEVOO_API_KEY", "REEVOO_API_SECRET"),
]
SANDBOX_PATHS = {
    "THIRTYFIVEUP_BASE_URL": "/sandbox/35up/v1",
    "SENDCLOUD_BASE_URL": "/sandbox/sendcloud/api/v3",
    "SHIPUP_BASE_URL": "/sandbox/shipup",
    "REEVOO_BASE_URL": "/sandbox/reevoo/v4",
}
# The hub's read timeout around a call that the sandbox answers too late (timeout, drop).
READ_TIMEOUT = 0.3


def basic_token(username, password):
    return base64.b64encode(f"{username}:{password}".encode()).decode()


def secrets_of(credentials):
    """Every credential value, and each Basic pair as it travels (base64)."""
    pairs = [
        basic_token(credentials[user], credentials[password])
        for user, password in BASIC_PAIRS
        if user in credentials and password in credentials
    ]
    return [*credentials.values(), *pairs]


class Sandbox:
    """The sandbox's control endpoints, over HTTP like everything else."""

    def __init__(self, url):
        self.url = url

    def control(self, path, body=None):
        response = requests.post(
            f"{self.url}/sandbox/_control/{path}",
            json=body,
            headers={CONTROL_TOKEN_HEADER: django_settings.SANDBOX_CONTROL_TOKEN},
            timeout=5,
        )
        assert response.status_code == 200, response.text
        return response.json()

    def configure_faults(self, **fields):
        return self.control("faults", fields)

    def queue_fault(self, fault, *, provider, method):
        """The next `method` request to `provider` gets `fault`; later ones are normal."""
        return self.configure_faults(
            queue=[{"fault": fault, "provider": provider, "method": method}]
        )

    def advance_order(self, thirtyfiveup_id, status=None):
        body = {"status": status} if status else None
        return self.control(f"35up/orders/{thirtyfiveup_id}/advance", body)

    def advance_return(self, return_id):
        return self.control(f"35up/returns/{return_id}/advance")


@pytest.fixture(name="session_with_fault")
def session_with_fault_fixture():
    """Makes client sessions whose every request asks the sandbox for a fault (X-Sandbox-Fault);
    they are closed when the test ends."""
    sessions = []

    def make(fault):
        session = requests.Session()
        session.headers[faults.FAULT_HEADER] = fault
        sessions.append(session)
        return session

    yield make
    for session in sessions:
        session.close()


@pytest.fixture(name="sandbox")
def sandbox_fixture(live_server, transactional_db, settings, monkeypatch):
    """All four providers pointed at the live server's sandbox, with its credentials."""
    # A live-server thread keeps its database connection for as long as the client's pooled
    # HTTP connection stays open; closing it after each request lets the test database go.
    monkeypatch.setitem(connections.settings[DEFAULT_DB_ALIAS], "CONN_MAX_AGE", 0)
    for name, path in SANDBOX_PATHS.items():
        setattr(settings, name, live_server.url + path)
    for name, value in CREDENTIALS.items():
        setattr(settings, name, value)
    settings.SENDCLOUD_INTEGRATION_ID = 7
    settings.REEVOO_TRKREF = "ORDERHUB"
    settings.REDIS_URL = ""
    settings.PROVIDER_CONNECT_TIMEOUT = 2.0
    settings.PROVIDER_READ_TIMEOUT = 5.0
    return Sandbox(live_server.url)


class HeldAnswers:
    """Stands in for the sandbox's pause: an answer that the `timeout` or `drop` fault delays
    waits until the test lets it go, which the test does once the client has given up. So the
    client always gives up first, the sandbox's thread never writes to the database while the
    test does (on SQLite they share one connection), and nothing sleeps."""

    # Seconds after which a held answer goes anyway, so that a failing test hangs no thread.
    LIMIT = 30

    def __init__(self):
        self.gate = threading.Event()
        self.held_threads = []

    def pause(self, seconds):
        self.held_threads.append(threading.current_thread())
        self.gate.wait(timeout=self.LIMIT)

    def release(self):
        """Let the held answers go, and wait until the sandbox's threads have finished."""
        self.gate.set()
        for thread in self.held_threads:
            thread.join(timeout=self.LIMIT)
        self.held_threads.clear()
        self.gate.clear()


@pytest.fixture(name="held_answers")
def held_answers_fixture(monkeypatch):
    held = HeldAnswers()
    monkeypatch.setattr(faults, "pause", held.pause)
    yield held
    held.release()
