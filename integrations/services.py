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

from core.errors import ActionError, PermissionRefused
from core.statemachine import ReportOutcome
from integrations import operations
from integrations.errors import (
    PermanentProviderError,
    ProviderBadAnswer,
    ProviderError,
    ProviderValidationError,
)
from integrations.http import to_wire
from integrations.models import ProviderLink
from integrations.providers import Provider, is_enabled, missing_settings
from integrations.reevoo.client import ReevooClient
from integrations.reevoo.mapping import customer_order_payload
from integrations.sendcloud import mapping as sendcloud_mapping
from integrations.sendcloud.client import SendcloudClient
from integrations.shipup.client import ShipupClient
from integrations.shipup.mapping import order_payload as shipup_order_payload
from integrations.thirtyfiveup.client import ThirtyFiveUpClient
from integrations.thirtyfiveup.mapping import (
    order_status_payload,
    place_order_payload,
    return_request_payload,
    return_status_payload,
)
from orders.models import Order, OrderLine, OrderStatus
from orders.services import apply_reported_status
from outbox import selectors as outbox_selectors
from outbox import services as outbox
from outbox.models import UNSETTLED_STATES
from outbox.registry import NeedsPerson
from returns.models import Return
from returns.services import apply_reported_status as apply_reported_return_status

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


def place_order_at_35up(order, *, delivery_id=None):
    """POST /orders, then keep 35up's id, its item ids and its first status on the order.

    `delivery_id` is the delivery making this call: its own row does not hold back 35up's answer.
    """
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
            try:
                placed = client.get_order(placed.id)
            except ProviderError as error:
                # Whatever the read's own error says, the POST before it reached 35up.
                error.may_have_reached = True
                raise
    link_placement(order, placed)
    apply_35up_report(order_id=order.pk, record=placed, excluding_delivery=delivery_id)
    record_success(
        order,
        Provider.THIRTYFIVEUP,
        attempted_at=attempted_at,
        remote_id=placed.id,
        remote_status=placed.status,
    )
    order.refresh_from_db()
    return placed


def link_placement(order, record):
    """Keep 35up's id and item ids on the order. An id another order already holds is never
    given to a second one: a person must look (the delivery stays ambiguous with the reason)."""
    with transaction.atomic():
        holder = Order.objects.filter(thirtyfiveup_id=record.id).exclude(pk=order.pk).first()
        if holder is not None:
            raise NeedsPerson(
                f"35up order {record.id} was reported for {order.reference}, but the hub already "
                f"links it to order {holder.reference}: a person must decide which order it is."
            )
        Order.objects.filter(pk=order.pk, thirtyfiveup_id__isnull=True).update(
            thirtyfiveup_id=record.id
        )
        for sku, item_id in record.item_ids.items():
            OrderLine.objects.filter(order=order, sku=sku).update(thirtyfiveup_item_id=item_id)


def change_on_its_way(subject, excluding_delivery=None):
    """Whether a 35up delivery of ours about `subject` is queued, sending, waiting to retry or
    unsettled (other than `excluding_delivery`, the call whose answer is being applied)."""
    unsent = outbox.for_subject(subject).filter(
        provider=Provider.THIRTYFIVEUP, state__in=UNSETTLED_STATES
    )
    if excluding_delivery is not None:
        unsent = unsent.exclude(pk=excluding_delivery)
    return unsent.exists()


def apply_35up_report(*, order_id, record, excluding_delivery=None):
    """Apply what 35up reports about an order, unless a change of ours is still on its way to
    35up (queued, sending, waiting to retry, or unsettled): its answer would be older than our
    change. The order row is locked first, so a transition committing a new delivery either
    lands before this check (and holds the report back) or waits for it."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_id)
        if change_on_its_way(order, excluding_delivery):
            return ReportOutcome.HELD_BACK
        return apply_reported_status(
            order_id=order_id, status=record.status, reported_at=record.updated_at
        )


def find_placement(order):
    """The 35up record of an order whose POST got no answer, or None when 35up has none.

    35up's documents promise no filter on GET /orders: every listed record's reference is
    compared with ours, across every page, and no position is taken on trust.
    """
    records = ThirtyFiveUpClient.from_settings().list_orders(
        reference=order.reference, max_pages=settings.THIRTYFIVEUP_LOOKUP_MAX_PAGES
    )
    matches = [record for record in records if record.reference == order.reference]
    if len(matches) > 1:
        ids = ", ".join(record.id for record in matches)
        raise NeedsPerson(
            f"35up lists {len(matches)} orders with reference {order.reference} ({ids}): "
            "a person must decide which one is this order."
        )
    return matches[0] if matches else None


def record_found_placement(order, record, *, delivery_id=None):
    """35up has the order although our POST got no answer: keep its id as if it had answered.

    `delivery_id` is the placement's own delivery (sending or ambiguous): like the answer it
    stands for, its own row does not hold back 35up's report.
    """
    link_placement(order, record)
    apply_35up_report(order_id=order.pk, record=record, excluding_delivery=delivery_id)
    record_success(
        order,
        Provider.THIRTYFIVEUP,
        attempted_at=timezone.now(),
        remote_id=record.id,
        remote_status=record.status,
    )


def update_35up_order_status(order, status, message="", *, delivery_id=None):
    """PATCH /orders/{id} {"status", "message"}; 35up's answer is applied as a report, unless a
    later change of ours is still on its way (`delivery_id` is this call's own delivery)."""
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
    apply_35up_report(order_id=order.pk, record=answered, excluding_delivery=delivery_id)
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
    error: Exception | None = None

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
            # Each order is checked alone before it joins a batch: the batch is all-or-nothing,
            # and a value that cannot go on the wire would otherwise sink every order in it.
            try:
                payload = sendcloud_mapping.order_payload(
                    order, integration_id=settings.SENDCLOUD_INTEGRATION_ID
                )
                to_wire(payload)
            except ProviderValidationError as error:
                results[order.pk] = PushResult(order, error=error)
            except ValueError as error:
                results[order.pk] = PushResult(
                    order, error=ProviderValidationError(Provider.SENDCLOUD, str(error))
                )
            else:
                ready.append((order, payload))
        for start in range(0, len(ready), sendcloud_mapping.BATCH_LIMIT):
            _push_batch(client, ready[start : start + sendcloud_mapping.BATCH_LIMIT], results)
    for order in orders:
        result = results[order.pk]
        try:
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
        except Exception as error:
            # Recording one order's answer failed: that order's delivery says so, the others
            # of the batch keep theirs.
            results[order.pk] = PushResult(order, error=error)
    return [results[order.pk] for order in orders]


PUSH_PERMISSION = "outbox.push_order"


def push_refusal(order, provider, *, pending):
    """Why `order` cannot be sent to `provider` by hand now ("" when it can).

    `pending` is the number of the order's deliveries to that provider still queued or sending: a
    new one would only wait behind them (one in flight per order and provider), and each builds
    its request when it is sent, so it would send nothing newer.
    """
    label = Provider(provider).label
    if missing := missing_settings(provider):
        return f"{label} is disabled: missing {', '.join(missing)}."
    # 35up takes an order once (POST /orders); later changes reach it through the transitions.
    if provider == Provider.THIRTYFIVEUP and order.status != OrderStatus.NEW:
        return (
            f"Order {order.reference} is {order.get_status_display().lower()}: only new orders "
            "are placed at 35up."
        )
    if pending:
        return (
            f"Order {order.reference} already has a delivery to {label} waiting to be sent "
            "(queued or sending)."
        )
    return ""


# What a staff member's "send to provider" asks of each provider.
MANUAL_PUSH_OPERATIONS = {
    Provider.THIRTYFIVEUP: operations.PLACE_ORDER,
    Provider.SENDCLOUD: operations.PUSH_ORDER,
    Provider.SHIPUP: operations.PUSH_ORDER,
    Provider.REEVOO: operations.SUBMIT_ORDER,
}


@transaction.atomic
def push_order_to_provider(*, order_id, provider, actor):
    """Staff: send one order to one provider now (order page button, bulk action).

    Returns the queued delivery; raises PermissionRefused or ActionError with a message.
    """
    if not actor.has_perm(PUSH_PERMISSION):
        raise PermissionRefused("You do not have permission to send orders to providers.")
    if provider not in Provider.values:
        raise ActionError(f"'{provider}' is not a provider ({', '.join(Provider.values)}).")
    # The row lock makes a double click queue one delivery, not two.
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise ActionError(f"Order {order_id} does not exist.")
    pending = outbox_selectors.pending_count(subject=order, provider=provider)
    if refusal := push_refusal(order, provider, pending=pending):
        raise ActionError(refusal)
    return write_delivery(order, provider, MANUAL_PUSH_OPERATIONS[provider], actor)


def write_delivery(order, provider, operation, actor, payload=None):
    """Queue one delivery about `order` (nothing when the provider is disabled)."""
    if not is_enabled(provider):
        return None
    return outbox.enqueue(
        provider=provider,
        operation=operation,
        subject=order,
        target=order.reference,
        payload=payload,
        created_by=actor.label,
    )


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


# --- Returns at 35up ------------------------------------------------------------------------


def link_return(return_request, remote_id):
    """Keep 35up's id on the return, never an id another return already holds."""
    with transaction.atomic():
        holder = Return.objects.filter(thirtyfiveup_id=remote_id).exclude(pk=return_request.pk)
        if holder := holder.first():
            raise NeedsPerson(
                f"35up return {remote_id} was reported for return {return_request.pk}, but the "
                f"hub already links it to return {holder.pk}: a person must decide."
            )
        Return.objects.filter(pk=return_request.pk, thirtyfiveup_id__isnull=True).update(
            thirtyfiveup_id=remote_id
        )


def apply_35up_return_report(*, return_id, status, reported_at, excluding_delivery=None):
    """Apply what 35up reports about a return, unless a change of ours is still on its way
    (the same rule, and the same lock-first order, as for orders)."""
    with transaction.atomic():
        return_request = Return.objects.select_for_update().get(pk=return_id)
        if change_on_its_way(return_request, excluding_delivery):
            return ReportOutcome.HELD_BACK
        return apply_reported_return_status(
            return_id=return_id, status=status, reported_at=reported_at
        )


def request_return_at_35up(return_request, *, delivery_id=None):
    """POST /returns, then keep 35up's id and apply its first status. (Its outcome is the
    delivery's; the order's 35up link stays about the order.)"""
    if return_request.thirtyfiveup_id:
        raise ProviderValidationError(
            Provider.THIRTYFIVEUP,
            f"Return {return_request.pk} is already at 35up as {return_request.thirtyfiveup_id}.",
        )
    lines = [(line.order_line, line.quantity) for line in return_request.lines.all()]
    payload = return_request_payload(return_request.order.thirtyfiveup_id, lines)
    created = ThirtyFiveUpClient.from_settings().request_return(payload)
    link_return(return_request, created.id)
    apply_35up_return_report(
        return_id=return_request.pk,
        status=created.status,
        reported_at=created.updated_at,
        excluding_delivery=delivery_id,
    )
    return created


def update_35up_return_status(return_request, status, *, delivery_id=None):
    """PATCH /returns/{id} {"status"}; 35up's answer is applied as a report."""
    if not return_request.thirtyfiveup_id:
        raise ProviderValidationError(
            Provider.THIRTYFIVEUP, f"Return {return_request.pk} was never accepted by 35up."
        )
    answered = ThirtyFiveUpClient.from_settings().update_return_status(
        return_request.thirtyfiveup_id, return_status_payload(status)
    )
    apply_35up_return_report(
        return_id=return_request.pk,
        status=answered.status,
        reported_at=answered.updated_at,
        excluding_delivery=delivery_id,
    )
    return answered


def find_return_at_35up(return_request):
    """The 35up return an ambiguous POST /returns created, from what 35up reports for the
    order: (id, status) or None when 35up lists the order's returns and ours is not among them.

    35up's documents promise no list of an order's returns: when its answer carries none, or
    more than one return could be ours, a person decides (NeedsPerson, with the facts).
    """
    record = ThirtyFiveUpClient.from_settings().get_order(return_request.order.thirtyfiveup_id)
    ours = {line.thirtyfiveup_item_id: line.quantity for line in return_request.lines.all()}
    if record.returns is None:
        raise NeedsPerson(
            f"35up's answer for order {return_request.order.reference} lists no returns, so the "
            f"hub cannot tell whether return {return_request.pk} ({_describe(ours)}) reached "
            "35up: check at 35up, then send it again saying so, or give it up."
        )
    known = set(
        Return.objects.filter(thirtyfiveup_id__in=[rid for rid, _, _ in record.returns])
        .exclude(pk=return_request.pk)
        .values_list("thirtyfiveup_id", flat=True)
    )
    candidates = [
        (remote_id, status)
        for remote_id, status, items in record.returns
        if items == ours and remote_id not in known
    ]
    if len(candidates) > 1:
        raise NeedsPerson(
            f"35up lists {len(candidates)} returns of order {return_request.order.reference} "
            f"with the same items as return {return_request.pk} ({_describe(ours)}): "
            f"{', '.join(rid for rid, _ in candidates)}. A person must decide which is ours."
        )
    return candidates[0] if candidates else None


def _describe(items):
    return ", ".join(f"{quantity} x item {item_id}" for item_id, quantity in sorted(items.items()))
