"""Fault soak: 300 orders placed and approved through all four providers while the sandbox
fails 20% of calls with 5xx, 5% with timeouts and 5% with 429, and 35up's order list ignores
its query (its documents promise no filter). Every delivery must end succeeded, 35up must hold
exactly one order per reference, each order linked to its own, and nothing may be lost.

Then every third delivered order gets a return (one line, quantity 1), requested under the same
faults plus 5% dropped answers (35up takes the return, the hub never hears it): every return
must reach 35up exactly once, linked to its own 35up return, and the sync must bring 35up's next
step home."""

from collections import Counter
from itertools import islice

import pytest
from django.db.models import Count

from core.actors import Actor
from integrations.operations import REQUEST_RETURN
from integrations.sync import sync_from_35up
from orders.ingest import IngestOutcome, ingest_order
from orders.models import Order, OrderStatus
from orders.services import request_transition
from outbox.models import Delivery, DeliveryState
from returns.models import Return, ReturnStatus
from returns.services import request_return
from sandbox import faults
from sandbox import thirtyfiveup as sandbox_35up
from sandbox.models import (
    SandboxOrder,
    SandboxReevooSubmission,
    SandboxRequest,
    SandboxReturn,
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
# Every RETURN_EVERY-th order (by reference) gets a return of its one line.
RETURN_EVERY = 3


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


def what_went_wrong():
    """The orders not where the test expects them and the deliveries that did not succeed: what
    a failed run needs to be understood (the soak's faults are random in their timing)."""
    orders = list(
        Order.objects.exclude(status=OrderStatus.PENDING).values_list("reference", "status")[:10]
    )
    deliveries = list(
        Delivery.objects.exclude(state=DeliveryState.SUCCEEDED).values_list(
            "pk", "provider", "operation", "state", "attempts", "last_status_code", "error"
        )[:10]
    )
    return f"orders: {orders}; deliveries not succeeded: {deliveries}"


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
    assert Order.objects.filter(status=OrderStatus.PENDING).count() == ORDERS, what_went_wrong()

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

    # Returns, under the same faults and dropped answers on top: POST /returns is unsafe to
    # repeat, so a dropped answer must be settled by finding the return at 35up, never resent.
    faults.configure_faults(drop_rate=0.05)
    returned_orders = list(islice(Order.objects.order_by("reference"), 0, None, RETURN_EVERY))
    for order in returned_orders:
        request_return(
            order_id=order.pk,
            lines=[(order.lines.get().pk, 1)],
            reason="soak",
            actor=Actor.staff(staff),
        )
    returning = run_worker_until_settled()
    return_deliveries = Counter(
        Delivery.objects.filter(operation=REQUEST_RETURN).values_list("state", flat=True)
    )
    # 35up accepts every return; the hub hears it through the sync, under the first faults
    # (a dropped read only costs the client's timeout).
    faults.configure_faults(drop_rate=0.0)
    for sandbox_return in SandboxReturn.objects.all():
        sandbox_35up.advance_return(sandbox_return.public_id)
    return_sync_runs = 0
    while (
        Return.objects.exclude(status=ReturnStatus.AWAITING_RETURN).exists()
        and return_sync_runs < 20
    ):
        sync_from_35up(limit=ORDERS)
        return_sync_runs += 1
    returns_requested = Return.objects.count()
    per_order = SandboxReturn.objects.values("order_id").annotate(n=Count("id"))
    return_duplicates = sum(row["n"] - 1 for row in per_order if row["n"] > 1)
    linked = dict(Return.objects.values_list("thirtyfiveup_id", "order__thirtyfiveup_id"))
    at_35up = dict(SandboxReturn.objects.values_list("public_id", "order__public_id"))
    returns_lost = returns_requested - len(set(linked) & set(at_35up) - {None})
    return_posts = Counter(
        SandboxRequest.objects.filter(method="POST", path__contains="/returns").values_list(
            "fault", flat=True
        )
    )

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
        f"worker rounds {placing.rounds}+{approving.rounds}+{reviewing.rounds}"
        f"+{returning.rounds}, "
        f"{placing.seconds + approving.seconds + reviewing.seconds + returning.seconds:.1f} s; "
        f"sync runs {sync_runs}+{return_sync_runs}; "
        f"ambiguous Reevoo submissions retried by staff {reviewing.staff_retries}; "
        f"35up duplicates {duplicates}; lost {lost}; "
        f"returns {returns_requested} requested, {len(at_35up)} at 35up, "
        f"POST /returns {sum(return_posts.values())} (faults {dict(return_posts)}), "
        f"return deliveries {dict(return_deliveries)}, duplicates {return_duplicates}, "
        f"lost {returns_lost}"
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
    # Returns: every one at 35up exactly once, for its own order, and 35up's next step home.
    assert returns_requested == len(returned_orders) == ORDERS // RETURN_EVERY
    assert return_deliveries == {DeliveryState.SUCCEEDED: returns_requested}
    assert return_posts["drop"] > 0 or return_posts["timeout"] > 0
    assert return_duplicates == 0
    assert returns_lost == 0
    assert linked == at_35up
    assert SandboxReturn.objects.count() == returns_requested
    assert set(Return.objects.values_list("status", flat=True)) == {ReturnStatus.AWAITING_RETURN}
    assert not Return.objects.filter(status_unexpected=True).exists()
