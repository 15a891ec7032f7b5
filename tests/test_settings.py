"""Settings: every variable documented; servers and workers default to production, which refuses
to start half-configured and has no sandbox; production passes check --deploy."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.apps import apps
from django.urls import resolve

ROOT = Path(__file__).resolve().parent.parent
ENV_CALL = re.compile(r"env(?:\.\w+)?\(\s*\"([A-Z0-9_]+)\"")
ENTRY_POINTS = ("config.wsgi", "config.asgi", "config.celery")
# A real-looking production environment; nothing connects to the database in these tests.
PRODUCTION = {
    "DJANGO_SECRET_KEY": "x7" * 30 + "-production-test-key-with-enough-entropy",
    "DJANGO_ALLOWED_HOSTS": "hub.shop.example",
    "DATABASE_URL": "postgres://orderhub:secret@db.shop.example:5432/orderhub",
}


def test_every_variable_read_by_settings_is_listed_in_env_example():
    read = set()
    for settings_file in (ROOT / "config" / "settings").glob("*.py"):
        read |= set(ENV_CALL.findall(settings_file.read_text()))
    listed = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - listed == set()
    assert {"DJANGO_SECRET_KEY", "DATABASE_URL", "LOCAL_SECRETS_FILE"} <= read


def run(*command, **variables):
    """A fresh interpreter in the project without any of our variables but `variables`."""
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SANDBOX_", "DATABASE_URL", "LOCAL_SECRETS_FILE"))
    }
    environment.update(variables)
    return subprocess.run(
        [sys.executable, *command],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def run_python(code, **variables):
    return run("-c", code, **variables)


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_servers_and_workers_default_to_production_settings(entry_point):
    result = run_python(
        f"import {entry_point}\n"
        "from django.conf import settings\n"
        "print(settings.SETTINGS_MODULE, settings.DEBUG, settings.SECRET_KEY == "
        f"{PRODUCTION['DJANGO_SECRET_KEY']!r})",
        **PRODUCTION,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["config.settings.production", "False", "True"]


@pytest.mark.parametrize("entry_point", ENTRY_POINTS)
def test_a_server_started_without_any_configuration_refuses_to_start(entry_point):
    result = run_python(f"import {entry_point}\nfrom django.conf import settings\nsettings.DEBUG")

    assert result.returncode != 0
    assert "ImproperlyConfigured: Production settings need these environment variables" in (
        result.stderr
    )
    for variable in PRODUCTION:
        assert f"\n  {variable}: " in result.stderr


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("DJANGO_SECRET_KEY", None),
        ("DJANGO_SECRET_KEY", ""),
        ("DJANGO_SECRET_KEY", "insecure-demo-key-only-for-local-use"),
        ("DJANGO_ALLOWED_HOSTS", None),
        ("DJANGO_ALLOWED_HOSTS", " , "),
        ("DATABASE_URL", None),
        ("DATABASE_URL", ""),
        ("DATABASE_URL", "sqlite:////srv/orderhub/db.sqlite3"),
    ],
)
def test_production_refuses_to_start_without_a_real(variable, value):
    environment = {name: given for name, given in PRODUCTION.items() if name != variable}
    if value is not None:
        environment[variable] = value

    result = run_python("import config.wsgi", **environment)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert f"\n  {variable}: " in result.stderr
    for other in PRODUCTION.keys() - {variable}:
        assert other not in result.stderr


def test_production_passes_check_deploy_without_warnings():
    result = run(
        "manage.py",
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        **PRODUCTION,
    )

    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_refuses_the_sandbox():
    result = run(
        "manage.py",
        "check",
        DJANGO_SETTINGS_MODULE="config.settings.production",
        SANDBOX_ENABLED="true",
        **PRODUCTION,
    )

    assert result.returncode != 0
    assert "SANDBOX_ENABLED" in result.stderr


SANDBOX_PRESENCE = """
import config.wsgi
from django.apps import apps
from django.contrib import admin
from django.urls import Resolver404, resolve

print("installed", apps.is_installed("sandbox"), apps.is_installed("demo"))
print("admin", sorted({model._meta.app_label for model in admin.site._registry}))
for path in ("/sandbox/_control/faults", "/sandbox/35up/v1/orders"):
    try:
        print("url", resolve(path).url_name)
    except Resolver404:
        print("url", "none")
"""


def test_production_has_no_sandbox_app_admin_or_url():
    result = run_python(SANDBOX_PRESENCE, **PRODUCTION)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == "installed False False"
    assert lines[1].startswith("admin [") and "orders" in lines[1]
    assert "sandbox" not in lines[1]
    assert lines[2:] == ["url none", "url none"]


def test_the_test_settings_do_have_the_sandbox():
    """The contrast of the test above: the same look finds the sandbox where it belongs."""
    assert apps.is_installed("sandbox")
    assert resolve("/sandbox/_control/faults").url_name == "control-faults"
