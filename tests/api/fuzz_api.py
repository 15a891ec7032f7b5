"""Property-based fuzzing of the API against its own OpenAPI schema (`make fuzz-api`, in CI).

Schemathesis generates requests for every operation of /api/v1/ from the schema the API serves,
valid ones and invalid ones (wrong types, missing fields, values out of range, odd text, odd
query strings), sends them to the WSGI app in this process as an authenticated superuser, and
checks each answer: never a 5xx; a status code, content type, headers and body the schema
declares. Half of the generated ids are mapped onto records seeded here,
so writes reach real orders and returns too, not only 404s.

The file name keeps it out of the ordinary `make test` run (`python_files = test_*.py`); it
prints the number of requests sent and fails below FUZZ_API_MIN_REQUESTS.
"""

import json
import logging
import os
from collections import Counter

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from drf_spectacular.generators import SchemaGenerator
from drf_spectacular.renderers import OpenApiJsonRenderer
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from rest_framework.authtoken.models import Token

from returns.models import Return
from tests.factories import DeliveryFactory, UserFactory, order_in_status
from tests.returns.helpers import return_in_status, returnable_order

EXAMPLES_PER_OPERATION = int(os.environ.get("FUZZ_API_EXAMPLES", "80"))
MIN_REQUESTS = int(os.environ.get("FUZZ_API_MIN_REQUESTS", "1000"))
# What "nothing they send can break" means here. Not schemathesis' negative_data_rejection: DRF
# takes a number where the schema says string as its text (postcode 98121), on purpose.
CHECKS = [
    schemathesis.checks.not_a_server_error,
    schemathesis.checks.status_code_conformance,
    schemathesis.checks.content_type_conformance,
    schemathesis.checks.response_headers_conformance,
    schemathesis.checks.response_schema_conformance,
]

SENT = Counter()


@pytest.fixture(scope="module", autouse=True)
def report():
    """Print what was sent once every operation has run, and hold the run to its minimum."""
    # 4xx answers are the point of fuzzing: Django's warning per 4xx would drown the output.
    request_logger = logging.getLogger("django.request")
    level = request_logger.level
    request_logger.setLevel(logging.ERROR)
    # As Django's test client does: the request signals must not close the test's connection,
    # whose transaction holds the seeded records.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)
    request_logger.setLevel(level)
    total = sum(SENT.values())
    server_errors = sum(count for status, count in SENT.items() if status >= 500)
    statuses = ", ".join(f"{status}: {count}" for status, count in sorted(SENT.items()))
    print(f"\nfuzz-api: {total} requests sent, {server_errors} answered 5xx ({statuses})")
    assert total >= MIN_REQUESTS, f"only {total} requests were generated (< {MIN_REQUESTS})"


@pytest.fixture
def records(db, settings):
    """Orders and returns in the statuses every write acts on, and deliveries to read."""
    settings.API_THROTTLE_RATE = ""
    settings.ALLOWED_HOSTS = ["localhost"]
    orders = [order_in_status(status) for status in ("new", "pending", "approved", "processing")]
    orders.append(returnable_order())
    returns = [return_in_status(status) for status in ("created", "awaiting_return")]
    for order in orders[:2]:
        DeliveryFactory(subject=order, state="dead")
    user = UserFactory(username="fuzzer", is_superuser=True)
    token, _ = Token.objects.get_or_create(user=user)
    return {
        "orders": [order.pk for order in orders],
        "returns": [r.pk for r in returns] or list(Return.objects.values_list("pk", flat=True)),
        "headers": {"Authorization": f"Token {token.key}"},
    }


# The schema exactly as /api/v1/schema/ serves it, generated here (pytest-django has set Django
# up before this module is collected; generating it needs no database).
schema = schemathesis.openapi.from_dict(
    json.loads(
        OpenApiJsonRenderer().render(SchemaGenerator().get_schema(request=None, public=True))
    )
)
schema.app = get_wsgi_application()


def aim_at_records(case, records):
    """Even generated ids become ids of seeded records (odd ones stay as generated)."""
    raw = (case.path_parameters or {}).get("id")
    if isinstance(raw, int) and raw % 2 == 0:
        known = (
            records["returns"] if case.path.startswith("/api/v1/returns/") else records["orders"]
        )
        case.path_parameters["id"] = known[(raw // 2) % len(known)]


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES_PER_OPERATION,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_api_answers_every_request_as_its_schema_says(case, records):
    aim_at_records(case, records)
    response = case.call_and_validate(headers=records["headers"], checks=CHECKS)
    SENT[response.status_code] += 1
