"""One function per provider operation: build the payload, call the provider, record its answer.

Called by the outbox worker, never by request handlers; no transaction is held across the HTTP
call. Every attempt lands on the order's ProviderLink (last attempt, success or error); errors
are re-raised for the outbox to retry or give up.
"""

from contextlib import contextmanager
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from integrations.errors import (
    PermanentProviderError,
    ProviderBadAnswer,
    ProviderError,
    ProviderValidationError,
)
from integrations.http import Provider
from integrations.models import ProviderLink
from integrations.reevoo.client import ReevooClient
from integrations.reevoo.mapping import customer_order_payload
from integrations.sendcloud import mapping as sendcloud_mapping
from integrations.sendcloud.client import SendcloudClient
from integrations.shipup.client import ShipupClient
from integrations.shipup.mapping import order_payload as shipup_order_payload
from integrations.thirtyfiveup.client import ThirtyFiveUpClient
from integrations.thirtyfiveup.mapping import order_status_payload, place_order_payload
from orders.models import Order, OrderLine
from orders.services import apply_reported_status

# Sendcloud answers these when it refuses an order in the batch: worth splitting the batch.
SENDCLOUD_REFUSALS = (400, 422)


def record_success(order, provider, *, attempted_at, remote_id="", remote_status=""):
    defaults = {
        "last_attempt_at": attempted_at,
        "last_success_at": timezone.now(),
        "last_error": "",
    }
    if remote_id:
        defaults["remote_id"] = remote_id
    if remote_status:
        defaults["remote_status"] = remote_status
    ProviderLink.objects.update_or_create(order=order, provider=provider, defaults=defaults)


def record_failure(order, provider, error, *, attempted_at):
    ProviderLink.objects.update_or_create(
        order=order,
        provider=provider,
        defaults={"last_attempt_at": attempted_at, "last_error": error.text},
    )


@contextmanager
def _recording_failure(order, provider, attempted_at):
    try:
        yield
    except ProviderError as error:
        record_failure(order, provider, error, attempted_at=attempted_at)
        raise


def place_order_at_35up(order):
    """POST /orders, then keep 35up's id, its item ids and its first status on the order."""
    attempted_at = timezone.now()
    with _recording_failure(order, Provider.THIRTYFIVEUP, attempted_at):
        if order.thirtyfiveup_id:
            raise ProviderValidationError(
                Provider.THIRTYFIVEUP,
                f"Order {order.reference} is already placed as {order.thirtyfiveup_id}.",
            )
        payload = place_order_payload(order)
        client = ThirtyFiveUpClient.from_settings()
        placed = client.place_order(payload)
        if not placed.item_ids:
            # 35up answers the POST with id and status only; the item ids that returns need come
            # with a read. If the read fails, the outbox's next attempt finds the order by
            # reference before sending anything again.
            placed = client.get_order(placed.id)
    with transaction.atomic():
        Order.objects.filter(pk=order.pk).update(thirtyfiveup_id=placed.id)
        for sku, item_id in placed.item_ids.items():
            OrderLine.objects.filter(order=order, sku=sku).update(thirtyfiveup_item_id=item_id)
    apply_reported_status(order_id=order.pk, status=placed.status, reported_at=placed.updated_at)
    record_success(
        order,
        Provider.THIRTYFIVEUP,
        attempted_at=attempted_at,
        remote_id=placed.id,
        remote_status=placed.status,
    )
    order.refresh_from_db()
    return placed


def update_35up_order_status(order, status, message=""):
    """PATCH /orders/{id} {"status", "message"}; 35up's answer is applied as a report."""
    attempted_at = timezone.now()
    with _recording_failure(order, Provider.THIRTYFIVEUP, attempted_at):
        if not order.thirtyfiveup_id:
            raise ProviderValidationError(
                Provider.THIRTYFIVEUP, f"Order {order.reference} was never placed at 35up."
            )
        payload = order_status_payload(status, message)
        answered = ThirtyFiveUpClient.from_settings().update_order_status(
            order.thirtyfiveup_id, payload
        )
    apply_reported_status(
        order_id=order.pk, status=answered.status, reported_at=answered.updated_at
    )
    record_success(
        order, Provider.THIRTYFIVEUP, attempted_at=attempted_at, remote_status=answered.status
    )
    order.refresh_from_db()
    return answered


@dataclass(frozen=True)
class PushResult:
    """One order's outcome in a Sendcloud batch: its Sendcloud id, or the error that held it."""

    order: Order
    remote_id: str = ""
    error: ProviderError | None = None

    @property
    def succeeded(self):
        return self.error is None


def push_orders_to_sendcloud(orders):
    """Upsert orders in batches of at most 100. Each order is validated before it joins a batch,
    and a refused batch is split until the refused orders stand alone, so one bad order never
    holds back the others. Returns one PushResult per order, in the given order."""
    attempted_at = timezone.now()
    results = {}
    try:
        client = SendcloudClient.from_settings()
    except ProviderError as error:
        results = {order.pk: PushResult(order, error=error) for order in orders}
    else:
        ready = []
        for order in orders:
            try:
                payload = sendcloud_mapping.order_payload(
                    order, integration_id=settings.SENDCLOUD_INTEGRATION_ID
                )
            except ProviderValidationError as error:
                results[order.pk] = PushResult(order, error=error)
            else:
                ready.append((order, payload))
        for start in range(0, len(ready), sendcloud_mapping.BATCH_LIMIT):
            _push_batch(client, ready[start : start + sendcloud_mapping.BATCH_LIMIT], results)
    for order in orders:
        result = results[order.pk]
        if result.succeeded:
            record_success(
                order,
                Provider.SENDCLOUD,
                attempted_at=attempted_at,
                remote_id=result.remote_id,
                remote_status=str(order.status),
            )
        else:
            record_failure(order, Provider.SENDCLOUD, result.error, attempted_at=attempted_at)
    return [results[order.pk] for order in orders]


def _push_batch(client, batch, results):
    try:
        refs = client.upsert_orders([payload for _, payload in batch])
    except PermanentProviderError as error:
        if len(batch) > 1 and error.status in SENDCLOUD_REFUSALS:
            middle = len(batch) // 2
            _push_batch(client, batch[:middle], results)
            _push_batch(client, batch[middle:], results)
        else:
            results.update({order.pk: PushResult(order, error=error) for order, _ in batch})
        return
    except ProviderError as error:
        results.update({order.pk: PushResult(order, error=error) for order, _ in batch})
        return
    by_order_id = {ref.order_id: ref for ref in refs}
    for order, payload in batch:
        ref = by_order_id.get(payload["order_id"])
        results[order.pk] = (
            PushResult(order, remote_id=ref.id)
            if ref
            else PushResult(
                order,
                error=ProviderBadAnswer(
                    Provider.SENDCLOUD, f"The answer does not list order {order.reference}."
                ),
            )
        )


def push_order_to_shipup(order):
    """POST /v2/orders: the whole order, its unshipped lines and its shipments (upsert)."""
    attempted_at = timezone.now()
    with _recording_failure(order, Provider.SHIPUP, attempted_at):
        ref = ShipupClient.from_settings().upsert_order(shipup_order_payload(order))
    record_success(
        order,
        Provider.SHIPUP,
        attempted_at=attempted_at,
        remote_id=ref.id or ref.merchant_id,
        remote_status=str(order.status),
    )
    return ref


def submit_order_to_reevoo(order):
    """POST the customer order; Reevoo answers 202 with a request UUID, kept as remote_id."""
    attempted_at = timezone.now()
    with _recording_failure(order, Provider.REEVOO, attempted_at):
        payload = customer_order_payload(order, trkref=settings.REEVOO_TRKREF)
        submission = ReevooClient.from_settings().submit_customer_order(payload)
    record_success(
        order,
        Provider.REEVOO,
        attempted_at=attempted_at,
        remote_id=submission.id,
        remote_status=submission.status,
    )
    return submission
