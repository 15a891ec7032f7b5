"""Where the sandbox exists: on in the demo and the tests, never in production."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

PROJECT = Path(django_settings.BASE_DIR)
PROVIDER_VARIABLES = (
    "THIRTYFIVEUP_",
    "SENDCLOUD_",
    "SHIPUP_",
    "REEVOO_",
    "SANDBOX_",
    "DJANGO_",
    "DATABASE_URL",
)


def import_settings(module, code="", **variables):
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith(PROVIDER_VARIABLES)
    }
    environment.update(variables)
    return subprocess.run(
        [sys.executable, "-c", f"import {module} as s\n{code}"],
        cwd=PROJECT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


PRODUCTION = {"DJANGO_SECRET_KEY": "x" * 50, "DJANGO_ALLOWED_HOSTS": "hub.example"}


def test_production_settings_refuse_the_sandbox():
    result = import_settings("config.settings.production", **PRODUCTION, SANDBOX_ENABLED="true")

    assert result.returncode != 0
    assert "ImproperlyConfigured: SANDBOX_ENABLED must not be set" in result.stderr


def test_production_settings_load_without_the_sandbox():
    result = import_settings("config.settings.production", "print(s.SANDBOX_ENABLED)", **PRODUCTION)

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_the_demo_points_every_provider_at_the_sandbox_with_no_configuration():
    code = "\n".join(
        f"print(s.{name})"
        for name in (
            "THIRTYFIVEUP_BASE_URL",
            "SENDCLOUD_BASE_URL",
            "SHIPUP_BASE_URL",
            "REEVOO_BASE_URL",
            "THIRTYFIVEUP_USERNAME",
            "SENDCLOUD_INTEGRATION_ID",
            "REEVOO_TRKREF",
        )
    )

    result = import_settings("config.settings.local", code)

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "http://127.0.0.1:8000/sandbox/35up/v1",
        "http://127.0.0.1:8000/sandbox/sendcloud/api/v3",
        "http://127.0.0.1:8000/sandbox/shipup",
        "http://127.0.0.1:8000/sandbox/reevoo/v4",
        "sandbox-user",
        "7",
        "ORDERHUB",
    ]


def test_the_demo_settings_stay_overridable():
    result = import_settings(
        "config.settings.local",
        "print(s.THIRTYFIVEUP_BASE_URL, s.SHIPUP_BASE_URL, s.SHIPUP_API_KEY)",
        SANDBOX_URL="http://127.0.0.1:8020/sandbox",
        SHIPUP_API_KEY="my-key",
    )

    assert result.stdout.split() == [
        "http://127.0.0.1:8020/sandbox/35up/v1",
        "http://127.0.0.1:8020/sandbox/shipup",
        "my-key",
    ]


@pytest.mark.django_db
def test_the_sandbox_answers_404_when_disabled(client, settings):
    settings.SANDBOX_ENABLED = False

    assert client.post("/sandbox/35up/v1/orders", {}).status_code == 404
    assert client.get("/sandbox/_control/faults").status_code == 404
