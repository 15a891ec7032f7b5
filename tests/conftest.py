import importlib

import pytest
from django.apps import apps
from django.test.testcases import QuietWSGIRequestHandler

# The live server writes an answer's headers and body separately; with Nagle's algorithm on, the
# body waits for the client's delayed ACK, about 40 ms per request to the sandbox.
QuietWSGIRequestHandler.disable_nagle_algorithm = True


@pytest.fixture(autouse=True)
def _sandbox_enabled(settings):
    settings.SANDBOX_ENABLED = True


STAFF_GROUP_MIGRATIONS = [
    ("orders.migrations.0002_staff_groups", "create_groups"),
    ("outbox.migrations.0002_groups", "grant"),
    ("returns.migrations.0002_staff_groups", "grant"),
]


@pytest.fixture
def staff_groups(transactional_db):
    """The staff groups again, for transactional tests: their flush removes what the data
    migrations wrote. Runs the same migration functions against the live app registry."""
    for module, function in STAFF_GROUP_MIGRATIONS:
        getattr(importlib.import_module(module), function)(apps, None)
