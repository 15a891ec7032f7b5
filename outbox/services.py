"""Writing, claiming, sending and recording deliveries.

A worker claims rows in a short transaction (marks them `sending` with a lease), commits, and only
then calls the provider: no lock or transaction is held across network I/O. The result is written
back with a guarded update, so a worker whose lease ran out cannot overwrite a newer attempt.
"""

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from integrations.errors import ProviderError, RetryableProviderError
from outbox.models import (
    Delivery,
    DeliveryState,
    Operation,
    Provider,
    blocking_states,
)

logger = logging.getLogger(__name__)


@dataclass
class Outcome:
    """A successful call as stored: the request sent (redacted) and the provider's answer."""

    status_code: int | None = None
    request: dict = field(default_factory=dict)
    response_body: str = ""
    note: str = ""


def enqueue(*, provider, operation, target, order=None, payload=None, created_by=""):
    """Write a delivery; call it inside the transaction of the change that needs it."""
    delivery = Delivery.objects.create(
        provider=provider,
        operation=operation,
        order=order,
        target=target,
        payload=payload or {},
        created_by=created_by,
    )
    if settings.CELERY_BROKER_URL:
        from outbox.tasks import send_delivery

        # The fast path only: if this enqueue is lost, the periodic sweep sends the row anyway.
        transaction.on_commit(lambda: send_delivery.delay(delivery.pk))
    return delivery


def retry_delay(attempts_done, retry_after=None):
    """Seconds to wait before the next attempt, or None when the schedule is exhausted."""
    schedule = settings.OUTBOX_RETRY_SCHEDULE
    if attempts_done >= len(schedule):
        return None
    base = schedule[attempts_done]
    jitter = settings.OUTBOX_RETRY_JITTER
    delay = base * random.uniform(1 - jitter, 1 + jitter)
    if retry_after is not None:
        delay = max(delay, float(retry_after))
    return delay


def _due_queryset(now):
    earlier_blocking = Delivery.objects.filter(
        order=OuterRef("order"), provider=OuterRef("provider"), id__lt=OuterRef("id")
    ).filter(
        Q(provider=Provider.THIRTYFIVEUP, state__in=blocking_states(Provider.THIRTYFIVEUP))
        | Q(state__in=blocking_states(Provider.SENDCLOUD))
    )
    return (
        Delivery.objects.filter(state=DeliveryState.QUEUED, next_attempt_at__lte=now)
        .exclude(Q(order__isnull=False) & Exists(earlier_blocking))
        .order_by("next_attempt_at", "id")
    )


def _lock(queryset):
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset


def due_ids(*, limit=1000):
    return list(_due_queryset(timezone.now()).values_list("pk", flat=True)[:limit])


def expire_leases(now=None):
    """Rows whose worker died: due again, or ambiguous when a call unsafe to repeat went out."""
    now = now or timezone.now()
    expired = Delivery.objects.filter(state=DeliveryState.SENDING, lease_expires_at__lt=now)
    count = 0
    for delivery in expired:
        call_went_out = delivery.call_started_at is not None
        ambiguous = delivery.unsafe_to_repeat and call_went_out
        count += Delivery.objects.filter(
            pk=delivery.pk, state=DeliveryState.SENDING, attempts=delivery.attempts
        ).update(
            state=DeliveryState.AMBIGUOUS if ambiguous else DeliveryState.QUEUED,
            next_attempt_at=now,
            lease_expires_at=None,
            call_started_at=None,
            error=(
                "The worker stopped during the call (lease expired); outcome unknown."
                if ambiguous
                else "The worker stopped before recording this attempt (lease expired); "
                "sending again."
            ),
        )
    return count


def claim(*, limit, ids=None, provider=None, now=None):
    """Claim up to `limit` due deliveries: mark them sending, with a lease, and commit."""
    now = now or timezone.now()
    lease_until = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    with transaction.atomic():
        queryset = _due_queryset(now)
        if ids is not None:
            queryset = queryset.filter(pk__in=ids)
        if provider is not None:
            queryset = queryset.filter(provider=provider)
        claimed = list(_lock(queryset)[:limit])
        for delivery in claimed:
            delivery.state = DeliveryState.SENDING
            delivery.attempts += 1
            delivery.lease_expires_at = lease_until
            delivery.call_started_at = None
        Delivery.objects.bulk_update(
            claimed, ["state", "attempts", "lease_expires_at", "call_started_at"]
        )
    return claimed


def _finish(delivery, **fields):
    """Write an attempt's result, unless another worker has taken the row since (guarded)."""
    fields.setdefault("lease_expires_at", None)
    fields.setdefault("call_started_at", None)
    fields["updated_at"] = timezone.now()
    return Delivery.objects.filter(
        pk=delivery.pk, state=DeliveryState.SENDING, attempts=delivery.attempts
    ).update(**fields)


def record_success(delivery, outcome: Outcome, duration_ms):
    _finish(
        delivery,
        state=DeliveryState.SUCCEEDED,
        last_status_code=outcome.status_code,
        request=outcome.request,
        response_body=outcome.response_body[:10_000],
        error=outcome.note,
        duration_ms=duration_ms,
        finished_at=timezone.now(),
    )


def record_failure(delivery, error: ProviderError, duration_ms):
    now = timezone.now()
    common = {
        "last_status_code": error.status,
        "request": error.request,
        "response_body": error.response_body[:10_000],
        "error": error.text[:5_000],
        "duration_ms": duration_ms,
    }
    if error.outcome_unknown and delivery.unsafe_to_repeat:
        _finish(delivery, state=DeliveryState.AMBIGUOUS, **common)
    elif not error.retryable:
        _finish(delivery, state=DeliveryState.FAILED, finished_at=now, **common)
    else:
        delay = retry_delay(delivery.attempts, error.retry_after)
        if delay is None:
            _finish(delivery, state=DeliveryState.DEAD, finished_at=now, **common)
        else:
            _finish(
                delivery,
                state=DeliveryState.QUEUED,
                next_attempt_at=now + timedelta(seconds=delay),
                **common,
            )


def _start_calls(deliveries):
    """Right before a call: note that it goes out (a crash from here on leaves an unsafe call
    ambiguous) and let the lease run from now, so a long batch never sends a row whose lease
    has run out and that another worker may have taken. Returns the rows still ours."""
    now = timezone.now()
    lease_until = now + timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    return [
        delivery
        for delivery in deliveries
        if Delivery.objects.filter(
            pk=delivery.pk, state=DeliveryState.SENDING, attempts=delivery.attempts
        ).update(lease_expires_at=lease_until, call_started_at=now)
    ]


def _perform_one(delivery):
    from outbox.handlers import perform

    if not _start_calls([delivery]):
        return
    started = time.monotonic()
    try:
        outcome = perform(delivery)
    except ProviderError as error:
        record_failure(delivery, error, int((time.monotonic() - started) * 1000))
    except Exception as error:
        # A bug of ours must not lose the delivery: it is retried and shows its error.
        logger.exception("Delivery %s crashed", delivery.pk)
        record_failure(
            delivery,
            RetryableProviderError(
                delivery.provider, f"Internal error: {type(error).__name__}: {error}"
            ),
            int((time.monotonic() - started) * 1000),
        )
    else:
        record_success(delivery, outcome, int((time.monotonic() - started) * 1000))


def _perform_sendcloud_batch(deliveries):
    from outbox.handlers import perform_sendcloud_batch

    deliveries = _start_calls(deliveries)
    if not deliveries:
        return
    started = time.monotonic()
    results = perform_sendcloud_batch(deliveries)
    duration_ms = int((time.monotonic() - started) * 1000)
    for delivery in deliveries:
        result = results[delivery.pk]
        if isinstance(result, ProviderError):
            record_failure(delivery, result, duration_ms)
        else:
            record_success(delivery, result, duration_ms)


def send_due(*, limit=None, provider=None):
    """Send what is due now; returns the number of deliveries attempted."""
    limit = limit or settings.OUTBOX_BATCH_SIZE
    expire_leases()
    claimed = claim(limit=limit, provider=provider)
    sendcloud = [
        d
        for d in claimed
        if d.provider == Provider.SENDCLOUD and d.operation == Operation.PUSH_ORDER
    ]
    for start in range(0, len(sendcloud), settings.SENDCLOUD_BATCH_SIZE):
        _perform_sendcloud_batch(sendcloud[start : start + settings.SENDCLOUD_BATCH_SIZE])
    for delivery in claimed:
        if delivery not in sendcloud:
            _perform_one(delivery)
    return len(claimed)


def send_delivery(delivery_id):
    """Send one delivery now if it is due and not held back by an earlier one."""
    claimed = claim(limit=1, ids=[delivery_id])
    for delivery in claimed:
        if delivery.provider == Provider.SENDCLOUD and delivery.operation == Operation.PUSH_ORDER:
            _perform_sendcloud_batch(claimed)
        else:
            _perform_one(delivery)
    return len(claimed)


def drain(*, max_rounds=1000, provider=None):
    """Send until nothing is due (tests, the demo loop). Returns deliveries attempted."""
    total = 0
    for _ in range(max_rounds):
        sent = send_due(provider=provider)
        if not sent:
            break
        total += sent
    return total


def retry_now(*, delivery_id, actor_label):
    """Staff: send a dead, failed or ambiguous delivery again at once."""
    return Delivery.objects.filter(
        pk=delivery_id,
        state__in=[DeliveryState.DEAD, DeliveryState.FAILED, DeliveryState.AMBIGUOUS],
    ).update(
        state=DeliveryState.QUEUED,
        next_attempt_at=timezone.now(),
        finished_at=None,
        error=f"Retry requested by {actor_label}.",
        updated_at=timezone.now(),
    )


def give_up(*, delivery_id, actor_label):
    """Staff: stop trying; the delivery is failed and no longer holds back later ones."""
    return Delivery.objects.filter(
        pk=delivery_id,
        state__in=[DeliveryState.QUEUED, DeliveryState.DEAD, DeliveryState.AMBIGUOUS],
    ).update(
        state=DeliveryState.FAILED,
        finished_at=timezone.now(),
        error=f"Given up by {actor_label}.",
        updated_at=timezone.now(),
    )


PUSH_PERMISSION = "outbox.push_order"


@transaction.atomic
def push_order_to_provider(*, order_id, provider, actor):
    """Staff: send one order to one provider now (order page button, bulk action).

    Returns the queued delivery; raises orders.services' PermissionRefused or OrderActionError
    with a message for the user.
    """
    # Imported here: orders.services imports the triggers, which import this module.
    from orders.models import Order
    from orders.services import OrderActionError, PermissionRefused
    from outbox import triggers
    from outbox.selectors import pending_delivery_count, push_refusal

    if not actor.has_perm(PUSH_PERMISSION):
        raise PermissionRefused("You do not have permission to send orders to providers.")
    if provider not in Provider.values:
        raise OrderActionError(f"'{provider}' is not a provider ({', '.join(Provider.values)}).")
    # The row lock makes a double click queue one delivery, not two.
    order = Order.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise OrderActionError(f"Order {order_id} does not exist.")
    pending = pending_delivery_count(order_id=order.pk, provider=provider)
    if refusal := push_refusal(order, provider, pending=pending):
        raise OrderActionError(refusal)
    return triggers.push_requested(order, provider, actor)
