"""Settings: every variable documented, production refuses to start half-configured."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
ENV_CALL = re.compile(r"env(?:\.\w+)?\(\s*\"([A-Z0-9_]+)\"")


def test_every_variable_read_by_settings_is_listed_in_env_example():
    read = set()
    for settings_file in (ROOT / "config" / "settings").glob("*.py"):
        read |= set(ENV_CALL.findall(settings_file.read_text()))
    listed = set(re.findall(r"^([A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    assert read - listed == set()
    assert "DJANGO_SECRET_KEY" in read


def run_manage(*args, **env):
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "SANDBOX_", "DATABASE_URL"))
    }
    environment.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "DJANGO_SETTINGS_MODULE": "config.settings.production",
    "DJANGO_SECRET_KEY": "x7" * 30 + "-production-test-key-with-enough-entropy",
    "DJANGO_ALLOWED_HOSTS": "hub.shop.example",
}


def test_production_passes_check_deploy_without_warnings():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stderr + result.stdout
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION.items() if k != "DJANGO_SECRET_KEY"}
    result = run_manage("check", **env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_the_sandbox():
    result = run_manage("check", **PRODUCTION, SANDBOX_ENABLED="true")
    assert result.returncode != 0
    assert "SANDBOX_ENABLED" in result.stderr
