"""Fault soak: 300 orders placed and approved through all four providers while the sandbox
fails 20% of calls with 5xx, 5% with timeouts and 5% with 429, and 35up's order list ignores
its query (its documents promise no filter). Every delivery must end succeeded, 35up must hold
exactly one order per reference, each order linked to its own, and nothing may be lost."""

from collections import Counter

import pytest
from django.db.models import Count

from core.actors import Actor
from integrations.sync import sync_from_35up
from orders.ingest import IngestOutcome, ingest_order
from orders.models import Order, OrderStatus
from orders.services import request_transition
from outbox.models import Delivery, DeliveryState
from sandbox import faults
from sandbox import thirtyfiveup as sandbox_35up
from sandbox.models import (
    SandboxOrder,
    SandboxReevooSubmission,
    SandboxRequest,
    SandboxSendcloudOrder,
    SandboxShipupOrder,
)
from tests.factories import UserFactory
from tests.outbox.conftest import run_worker_until_settled

pytestmark = [
    pytest.mark.slow,
    # About 4 minutes on 2 cores; the default limit is for ordinary tests.
    pytest.mark.timeout(1200),
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("staff_groups"),
]

ORDERS = 300


def document(number):
    return {
        "reference": f"SOAK-{number:04d}",
        "currency": ("EUR", "USD", "GBP")[number % 3],
        "customer": {"first_name": "Ada", "last_name": f"Soak{number}", "email": "a@x.example"},
        "shipping_address": {
            "street": "Stadhuisplein",
            "street_number": str(number),
            "city": "Oss",
            "postcode": "5341AB",
            "country": "NL",
        },
        "lines": [{"sku": "caseable/SOAK-1", "name": "Case", "quantity": 1, "unit_price": "3.50"}],
    }


def test_every_delivery_succeeds_once_despite_faults(providers_at_sandbox, settings):
    settings.TRIGGER_REEVOO_ON = "delivered"
    faults.configure_faults(
        error_rate=0.20,
        timeout_rate=0.05,
        rate_limit_rate=0.05,
        retry_after_seconds=0,
        timeout_seconds=0.6,
        seed=35,
        ignore_list_filters=True,
    )
    staff = UserFactory(groups=["support"])

    for number in range(ORDERS):
        assert ingest_order(document(number), actor=Actor.system("soak")).outcome == (
            IngestOutcome.CREATED
        )
    placing = run_worker_until_settled()
    assert Order.objects.filter(status=OrderStatus.PENDING).count() == ORDERS

    for order in Order.objects.all():
        request_transition(
            order_id=order.pk, action="approve", actor=Actor.staff(staff), message="paid"
        )
    approving = run_worker_until_settled()

    # 35up ships and delivers everything; the hub hears it through the sync, under faults too.
    for order in SandboxOrder.objects.all():
        sandbox_35up.advance_order(order.public_id, OrderStatus.DELIVERED)
    sync_runs = 0
    while Order.objects.exclude(status=OrderStatus.DELIVERED).exists() and sync_runs < 20:
        sync_from_35up(limit=ORDERS)
        sync_runs += 1
    reviewing = run_worker_until_settled()

    deliveries = Counter(Delivery.objects.values_list("provider", "state"))
    requests = SandboxRequest.objects.count()
    injected = Counter(SandboxRequest.objects.exclude(fault="").values_list("fault", flat=True))
    per_reference = SandboxOrder.objects.values("reference").annotate(n=Count("id"))
    duplicates = sum(row["n"] - 1 for row in per_reference if row["n"] > 1)
    references = set(Order.objects.values_list("reference", flat=True))
    lost = {
        "35up": len(references - set(SandboxOrder.objects.values_list("reference", flat=True))),
        "sendcloud": ORDERS - SandboxSendcloudOrder.objects.count(),
        "shipup": ORDERS - SandboxShipupOrder.objects.count(),
        "reevoo": len(
            references - set(SandboxReevooSubmission.objects.values_list("order_ref", flat=True))
        ),
    }
    print(
        f"\nFAULT SOAK: {ORDERS} orders; {requests} HTTP requests received by the sandbox; "
        f"faults injected {dict(injected)}; deliveries {dict(sorted(deliveries.items()))}; "
        f"worker rounds {placing.rounds}+{approving.rounds}+{reviewing.rounds}, "
        f"{placing.seconds + approving.seconds + reviewing.seconds:.1f} s; sync runs {sync_runs}; "
        f"ambiguous Reevoo submissions retried by staff {reviewing.staff_retries}; "
        f"35up duplicates {duplicates}; lost {lost}"
    )
    assert set(Delivery.objects.values_list("state", flat=True)) == {DeliveryState.SUCCEEDED}
    assert {provider for provider, _ in deliveries} == {"35up", "sendcloud", "shipup", "reevoo"}
    assert injected["500"] > 0 and injected["timeout"] > 0 and injected["429"] > 0
    assert duplicates == 0
    assert all(row["n"] == 1 for row in per_reference)
    assert lost == {"35up": 0, "sendcloud": 0, "shipup": 0, "reevoo": 0}
    assert SandboxReevooSubmission.objects.count() == ORDERS
    assert not Order.objects.filter(status_unexpected=True).exists()
    assert set(SandboxOrder.objects.values_list("status", flat=True)) == {"delivered"}
    assert dict(Order.objects.values_list("reference", "thirtyfiveup_id")) == dict(
        SandboxOrder.objects.values_list("reference", "public_id")
    )
