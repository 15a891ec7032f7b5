"""Callers that talk to the fake providers through the Django test client, with the
credentials the test settings configure."""

import base64
import json

import pytest

from sandbox import faults
from sandbox.endpoints import CONTROL_TOKEN_HEADER


def basic(username, password):
    return "Basic " + base64.b64encode(f"{username}:{password}".encode()).decode()


class Caller:
    """Requests to one fake provider under /sandbox/<prefix>, authenticated unless told not."""

    def __init__(self, client, prefix, authorization, headers=None):
        self.client = client
        self.prefix = prefix
        self.authorization = authorization
        self.headers = headers or {}

    def _send(self, method, path, body=None, *, authorization=None, headers=None, raw=None):
        headers = {**self.headers, **(headers or {})}
        authorization = self.authorization if authorization is None else authorization
        if authorization:
            headers["Authorization"] = authorization
        data = raw if raw is not None else (None if body is None else json.dumps(body))
        return self.client.generic(
            method,
            f"/sandbox/{self.prefix}{path}",
            data=data or "",
            content_type="application/json",
            headers=headers,
        )

    def get(self, path, **kwargs):
        return self._send("GET", path, **kwargs)

    def post(self, path, body=None, **kwargs):
        return self._send("POST", path, body, **kwargs)

    def patch(self, path, body=None, **kwargs):
        return self._send("PATCH", path, body, **kwargs)

    def delete(self, path, **kwargs):
        return self._send("DELETE", path, **kwargs)


@pytest.fixture
def thirtyfiveup(client, settings):
    authorization = basic(settings.THIRTYFIVEUP_USERNAME, settings.THIRTYFIVEUP_PASSWORD)
    return Caller(client, "35up/v1", authorization)


@pytest.fixture
def sendcloud(client, settings):
    authorization = basic(settings.SENDCLOUD_PUBLIC_KEY, settings.SENDCLOUD_SECRET_KEY)
    return Caller(client, "sendcloud/api/v3", authorization)


@pytest.fixture
def shipup(client, settings):
    return Caller(client, "shipup", f"Bearer {settings.SHIPUP_API_KEY}")


@pytest.fixture
def reevoo(client, settings):
    return Caller(client, "reevoo/v4", basic(settings.REEVOO_API_KEY, settings.REEVOO_API_SECRET))


@pytest.fixture
def control(client, settings):
    """The control endpoints, opened with the install's token as a script would."""
    return Caller(
        client, "_control", "", headers={CONTROL_TOKEN_HEADER: settings.SANDBOX_CONTROL_TOKEN}
    )


@pytest.fixture(autouse=True)
def sleeps(monkeypatch):
    """The sandbox never really sleeps in tests; the waits it asked for are listed here."""
    waits = []
    monkeypatch.setattr(faults, "pause", waits.append)
    return waits
