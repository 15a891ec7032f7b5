"""Where the sandbox exists (the demo and the tests, never production), and the demo's
credentials: made per install, kept in a git-ignored file, never the published test values."""

import fnmatch
import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings as django_settings

PROJECT = Path(django_settings.BASE_DIR)
OWN_VARIABLES = (
    "THIRTYFIVEUP_",
    "SENDCLOUD_",
    "SHIPUP_",
    "REEVOO_",
    "SANDBOX_",
    "DJANGO_",
    "DATABASE_URL",
    "LOCAL_SECRETS_FILE",
)
CREDENTIALS = (
    "THIRTYFIVEUP_USERNAME",
    "THIRTYFIVEUP_PASSWORD",
    "SENDCLOUD_PUBLIC_KEY",
    "SENDCLOUD_SECRET_KEY",
    "SHIPUP_API_KEY",
    "REEVOO_API_KEY",
    "REEVOO_API_SECRET",
    "SANDBOX_CONTROL_TOKEN",
)
# What the repository once published for the demo, and what the test settings still use.
PUBLISHED = {
    "sandbox-user",
    "sandbox-pass",
    "sandbox-public",
    "sandbox-secret",
    "sandbox-shipup-key",
    "sandbox-key",
    "sandbox-control-test-token",
    "insecure-demo-key-only-for-local-use",
}


def import_settings(module, code="", **variables):
    environment = {
        name: value for name, value in os.environ.items() if not name.startswith(OWN_VARIABLES)
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


def demo_settings(secrets_file, names, **variables):
    """The named local settings, one per line, with this install's secrets in `secrets_file`."""
    code = "\n".join(f"print(s.{name})" for name in names)
    result = import_settings(
        "config.settings.local", code, LOCAL_SECRETS_FILE=str(secrets_file), **variables
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


PRODUCTION = {
    "DJANGO_SECRET_KEY": "x" * 50,
    "DJANGO_ALLOWED_HOSTS": "hub.example",
    "DATABASE_URL": "postgres://orderhub:secret@db.example:5432/orderhub",
}


def test_production_settings_refuse_the_sandbox():
    result = import_settings("config.settings.production", **PRODUCTION, SANDBOX_ENABLED="true")

    assert result.returncode != 0
    assert "ImproperlyConfigured: SANDBOX_ENABLED must not be set" in result.stderr


def test_production_settings_install_neither_the_sandbox_nor_the_demo():
    result = import_settings(
        "config.settings.production",
        "print(s.SANDBOX_ENABLED, 'sandbox' in s.INSTALLED_APPS, 'demo' in s.INSTALLED_APPS)",
        **PRODUCTION,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["False", "False", "False"]


def test_the_demo_points_every_provider_at_the_sandbox_with_no_configuration(tmp_path):
    values = demo_settings(
        tmp_path / "secrets.json",
        (
            "THIRTYFIVEUP_BASE_URL",
            "SENDCLOUD_BASE_URL",
            "SHIPUP_BASE_URL",
            "REEVOO_BASE_URL",
            "SENDCLOUD_INTEGRATION_ID",
            "REEVOO_TRKREF",
            "INSTALLED_APPS[-2:]",
        ),
    )

    assert values == [
        "http://127.0.0.1:8000/sandbox/35up/v1",
        "http://127.0.0.1:8000/sandbox/sendcloud/api/v3",
        "http://127.0.0.1:8000/sandbox/shipup",
        "http://127.0.0.1:8000/sandbox/reevoo/v4",
        "7",
        "ORDERHUB",
        "['sandbox', 'demo']",
    ]


def test_the_demo_makes_its_credentials_on_first_start_and_keeps_them(tmp_path):
    secrets_file = tmp_path / "secrets.json"

    first = demo_settings(secrets_file, ("SECRET_KEY", *CREDENTIALS))
    again = demo_settings(secrets_file, ("SECRET_KEY", *CREDENTIALS))

    stored = json.loads(secrets_file.read_text())
    assert first == again == [stored["DJANGO_SECRET_KEY"], *(stored[name] for name in CREDENTIALS)]
    assert len(set(first)) == len(first)
    assert all(len(value) >= 40 for value in first)
    assert not set(first) & PUBLISHED
    assert stat.S_IMODE(secrets_file.stat().st_mode) == 0o600


def test_each_install_gets_credentials_of_its_own(tmp_path):
    one = demo_settings(tmp_path / "one.json", CREDENTIALS)
    other = demo_settings(tmp_path / "other.json", CREDENTIALS)

    assert not set(one) & set(other)


def test_an_older_secrets_file_keeps_its_values_and_gets_the_missing_ones(tmp_path):
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text(json.dumps({"SHIPUP_API_KEY": "kept-from-before"}))

    values = demo_settings(secrets_file, ("SHIPUP_API_KEY", "SANDBOX_CONTROL_TOKEN"))

    assert values[0] == "kept-from-before"
    assert json.loads(secrets_file.read_text())["SANDBOX_CONTROL_TOKEN"] == values[1]


def test_a_broken_secrets_file_stops_the_demo_with_what_to_do(tmp_path):
    secrets_file = tmp_path / "secrets.json"
    secrets_file.write_text("{not json")

    result = import_settings("config.settings.local", LOCAL_SECRETS_FILE=str(secrets_file))

    assert result.returncode != 0
    assert f"ImproperlyConfigured: {secrets_file} is not JSON: delete it" in result.stderr


def test_the_secrets_file_is_ignored_by_git():
    ignored = [
        line.strip()
        for line in (PROJECT / ".gitignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]

    assert any(fnmatch.fnmatch(".local-secrets.json", pattern) for pattern in ignored)


def test_no_document_prints_the_test_credentials():
    documents = [
        PROJECT / "README.md",
        PROJECT / ".env.example",
        *PROJECT.glob("docs/*.md"),
        *PROJECT.glob("benchmarks/*.md"),
    ]

    printed = {
        (document.name, value)
        for document in documents
        for value in PUBLISHED
        if value in document.read_text()
    }

    assert len(documents) > 5
    assert printed == set()


def test_the_demo_settings_stay_overridable(tmp_path):
    values = demo_settings(
        tmp_path / "secrets.json",
        ("THIRTYFIVEUP_BASE_URL", "SHIPUP_BASE_URL", "SHIPUP_API_KEY", "SANDBOX_CONTROL_TOKEN"),
        SANDBOX_URL="http://127.0.0.1:8020/sandbox",
        SHIPUP_API_KEY="my-key",
        SANDBOX_CONTROL_TOKEN="my-token",
    )

    assert values == [
        "http://127.0.0.1:8020/sandbox/35up/v1",
        "http://127.0.0.1:8020/sandbox/shipup",
        "my-key",
        "my-token",
    ]


@pytest.mark.django_db
def test_the_sandbox_answers_404_when_disabled(client, settings):
    settings.SANDBOX_ENABLED = False

    assert client.post("/sandbox/35up/v1/orders", {}).status_code == 404
    assert client.get("/sandbox/_control/faults").status_code == 404
