"""The delivery engine: writing, claiming, sending and recording deliveries.

A worker claims rows in a short transaction (marks them `sending` with a lease), commits, and only
then calls the handler: no lock or transaction is held across network I/O. The result is written
back with a guarded update, so a worker whose lease ran out cannot overwrite a newer attempt.
Deliveries of one provider and operation are handed to their handler in batches of the spec's
`batch_size`, on every path (the embedded loop and the Celery drains alike). Whatever a handler,
a batch member or the recording of a result raises stays on that delivery's row: the loop, the
worker and the other members go on.
"""

import logging
import random
import time
from dataclasses import dataclass, field
from datetime import timedelta
from functools import cache

import redis
from celery import current_app
from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, Min, OuterRef, Q
from django.utils import timezone

from outbox import registry
from outbox.errors import DeliveryError
from outbox.models import IN_FLIGHT_STATES, Delivery, DeliveryFailure, DeliveryState
from outbox.registry import NeedsPerson, Settlement, UnknownOperation

logger = logging.getLogger(__name__)

DRAIN_MARK_PREFIX = "orderhub:outbox:drain:"


@dataclass
class Outcome:
    """A successful call as stored: the request sent (redacted) and the provider's answer."""

    status_code: int | None = None
    request: dict = field(default_factory=dict)
    response_body: str = ""
    note: str = ""


def subject_label(subject):
    return subject._meta.label_lower


def enqueue(*, provider, operation, subject, payload=None, target="", created_by=""):
    """Write a delivery about `subject`; call it inside the transaction of the change (alone, it
    runs in a transaction of its own).

    For an operation that coalesces, a delivery of the subject still queued (not yet claimed)
    takes this change too and is returned instead of a new row.
    """
    spec = registry.spec_for(provider, operation)
    with transaction.atomic():
        return _write(spec, subject, payload, target, created_by)


def _write(spec, subject, payload, target, created_by):
    provider, operation = spec.key
    subject_type = subject_label(subject)
    if spec.coalesce and (queued := _queued_to_coalesce(provider, operation, subject)):
        return queued
    delivery = Delivery.objects.create(
        provider=provider,
        operation=operation,
        subject_type=subject_type,
        subject_id=subject.pk,
        sequence_key=registry.sequence_key(provider, subject_type, subject.pk),
        sequence_strict=spec.strict_sequence,
        target=target or str(subject),
        payload=payload or {},
        created_by=created_by,
    )
    if settings.CELERY_BROKER_URL:
        # The fast path only: if this is lost, the periodic sweep schedules the drain anyway.
        transaction.on_commit(lambda: schedule_drain(provider, countdown=spec.linger_seconds))
    return delivery


def _queued_to_coalesce(provider, operation, subject):
    """A not-yet-claimed delivery of this subject: it builds its payload when sent, so it carries
    this change too. Locked (skipping rows a worker is claiming) so that no worker can send it
    with the subject as it was before this transaction commits."""
    queued = Delivery.objects.filter(
        subject_type=subject_label(subject),
        subject_id=subject.pk,
        provider=provider,
        operation=operation,
        state=DeliveryState.QUEUED,
    )
    return _lock(queued).first()


def for_subject(subject):
    return Delivery.objects.filter(subject_type=subject_label(subject), subject_id=subject.pk)


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
    earlier = Delivery.objects.filter(sequence_key=OuterRef("sequence_key"), id__lt=OuterRef("id"))
    return (
        Delivery.objects.filter(state=DeliveryState.QUEUED, next_attempt_at__lte=now)
        .exclude(Exists(earlier.filter(state__in=IN_FLIGHT_STATES)))
        .exclude(
            Q(sequence_strict=True)
            & Exists(earlier.filter(state__in=[DeliveryState.AMBIGUOUS, DeliveryState.DEAD]))
        )
        .order_by("next_attempt_at", "id")
    )


def _lock(queryset):
    if connection.features.has_select_for_update_skip_locked:
        return queryset.select_for_update(skip_locked=True, of=("self",))
    return queryset


def _unsafe_to_repeat(delivery):
    try:
        return delivery.unsafe_to_repeat
    except UnknownOperation:
        return True  # unknown: never assume a repeat is harmless


def expire_leases(now=None):
    """Rows whose worker died: due again, or ambiguous when a call unsafe to repeat went out."""
    now = now or timezone.now()
    expired = Delivery.objects.filter(state=DeliveryState.SENDING, lease_expires_at__lt=now)
    count = 0
    for delivery in expired:
        ambiguous = _unsafe_to_repeat(delivery) and delivery.call_started_at is not None
        call_went_out = delivery.call_started_at is not None
        count += Delivery.objects.filter(
            pk=delivery.pk, state=DeliveryState.SENDING, attempts=delivery.attempts
        ).update(
            state=DeliveryState.AMBIGUOUS if ambiguous else DeliveryState.QUEUED,
            may_have_reached=delivery.may_have_reached or call_went_out,
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
        error=outcome.note[:5_000],
        duration_ms=duration_ms,
        finished_at=timezone.now(),
    )


def record_failure(delivery, error: DeliveryError, duration_ms):
    now = timezone.now()
    common = {
        "last_status_code": error.status,
        "request": error.request,
        "response_body": error.response_body[:10_000],
        "error": error.text[:5_000],
        "duration_ms": duration_ms,
    }
    if error.throttled:
        # Our own limiter held the call back before it went out: wait for the free slot; this
        # was not an attempt.
        wait = float(error.retry_after or 1.0)
        _finish(
            delivery,
            state=DeliveryState.QUEUED,
            attempts=delivery.attempts - 1,
            next_attempt_at=now + timedelta(seconds=wait),
            **common,
        )
    elif error.outcome_unknown and _unsafe_to_repeat(delivery):
        _finish(delivery, state=DeliveryState.AMBIGUOUS, may_have_reached=True, **common)
    elif not error.retryable:
        # The hub's own refusal to send (the order breaks the provider's rules) is told apart
        # from the provider's refusal of a request it received.
        failure = DeliveryFailure.REFUSED if error.sent else DeliveryFailure.INVALID
        _finish(delivery, state=DeliveryState.FAILED, failure=failure, finished_at=now, **common)
    else:
        common["may_have_reached"] = delivery.may_have_reached or error.may_have_reached
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


def _record(delivery, result, duration_ms):
    if isinstance(result, Outcome):
        record_success(delivery, result, duration_ms)
    elif isinstance(result, NeedsPerson):
        _finish(
            delivery,
            state=DeliveryState.AMBIGUOUS,
            may_have_reached=True,
            error=str(result)[:5_000],
        )
    elif isinstance(result, DeliveryError):
        record_failure(delivery, result, duration_ms)
    else:
        # A bug of ours, or an answer we cannot handle: retrying the same thing would fail the
        # same way, so the row fails with the error for a person to read (and retry if fixed).
        # A call may have gone out before it: a retry of an unsafe operation looks first.
        _finish(
            delivery,
            state=DeliveryState.FAILED,
            failure=DeliveryFailure.INTERNAL,
            may_have_reached=True,
            finished_at=timezone.now(),
            error=f"Internal error: {type(result).__name__}: {result}"[:5_000],
            duration_ms=duration_ms,
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


def _send_batch(spec, deliveries):
    """Hand up to `batch_size` deliveries to their handler and record each member's result."""
    deliveries = _start_calls(deliveries)
    if not deliveries:
        return
    started = time.monotonic()
    try:
        results = spec.handler(deliveries)
    except Exception as error:
        logger.exception("Handler of %s %s crashed", spec.provider, spec.operation)
        results = dict.fromkeys((delivery.pk for delivery in deliveries), error)
    duration_ms = int((time.monotonic() - started) * 1000)
    for delivery in deliveries:
        result = results.get(delivery.pk) or RuntimeError("The handler reported no result.")
        try:
            _record(delivery, result, duration_ms)
        except Exception as error:
            logger.exception("Recording delivery %s failed", delivery.pk)
            _record_last_resort(delivery, error)


def _record_last_resort(delivery, error):
    """Recording the result failed (the database refused it): fail the row with the reason; if
    even that fails, the lease runs out and the row comes back by the usual rule."""
    try:
        _finish(
            delivery,
            state=DeliveryState.FAILED,
            failure=DeliveryFailure.INTERNAL,
            finished_at=timezone.now(),
            error=f"Recording the result failed: {type(error).__name__}: {error}"[:5_000],
        )
    except Exception:
        logger.exception("Delivery %s left to its lease", delivery.pk)


def _unknown_operation(delivery, error):
    try:
        _record(delivery, error, 0)
    except Exception as recording_error:
        _record_last_resort(delivery, recording_error)


def send_due(*, provider=None, limit=None):
    """Claim what is due now (one provider, or all) and send it in batches; returns the number of
    deliveries attempted."""
    expire_leases()
    claimed = claim(limit=limit or settings.OUTBOX_BATCH_SIZE, provider=provider)
    groups = {}
    for delivery in claimed:
        groups.setdefault((delivery.provider, delivery.operation), []).append(delivery)
    for (group_provider, operation), members in groups.items():
        try:
            spec = registry.spec_for(group_provider, operation)
        except UnknownOperation as error:
            for delivery in members:
                _unknown_operation(delivery, error)
            continue
        for start in range(0, len(members), spec.batch_size):
            _send_batch(spec, members[start : start + spec.batch_size])
    return len(claimed)


def drain(*, max_rounds=1000, provider=None):
    """Send until nothing is due (the embedded loop, the demo, tests), one provider at a time so
    that each round fills whole batches. Returns deliveries attempted."""
    providers = [provider] if provider else registry.providers()
    total = 0
    for _ in range(max_rounds):
        sent = sum(send_due(provider=each) for each in providers)
        if not sent:
            break
        total += sent
    return total


def seconds_until_due(provider):
    """Seconds until the provider's next queued delivery is due (0 if one is due now), or None."""
    next_at = Delivery.objects.filter(provider=provider, state=DeliveryState.QUEUED).aggregate(
        next_at=Min("next_attempt_at")
    )["next_at"]
    if next_at is None:
        return None
    return max(0.0, (next_at - timezone.now()).total_seconds())


def providers_with_due():
    due = _due_queryset(timezone.now())
    return [provider for provider in registry.providers() if due.filter(provider=provider).exists()]


@cache
def _redis(url):
    return redis.Redis.from_url(url)


def schedule_drain(provider, *, countdown=0.0):
    """Ask a Celery worker to drain one provider, at most once at a time: while a drain is
    scheduled and not yet started, asking again does nothing (a Redis mark, when REDIS_URL is
    set). Returns True when a task was sent."""
    if not settings.CELERY_BROKER_URL:
        return False
    countdown = max(0.0, float(countdown))
    if settings.REDIS_URL:
        mark_seconds = int(countdown) + settings.OUTBOX_DRAIN_MARK_SECONDS
        if not _redis(settings.REDIS_URL).set(
            DRAIN_MARK_PREFIX + provider, "1", nx=True, ex=mark_seconds
        ):
            return False
    current_app.send_task("outbox.drain_provider", args=[provider], countdown=countdown)
    return True


def linger_left(provider):
    """Seconds a partial batch of the provider's lingering operations should still wait: it goes
    out once it is full or once its oldest member has been due for the spec's linger_seconds."""
    now = timezone.now()
    left = 0.0
    for spec in registry.specs():
        if spec.provider != provider or not spec.linger_seconds:
            continue
        due = _due_queryset(now).filter(provider=provider, operation=spec.operation)
        if due[: spec.batch_size].count() >= spec.batch_size:
            return 0.0
        oldest = due.order_by().aggregate(oldest=Min("next_attempt_at"))["oldest"]
        if oldest is not None:
            left = max(left, spec.linger_seconds - (now - oldest).total_seconds())
    return max(0.0, left)


def drain_provider(provider, *, seconds=None):
    """A worker's drain of one provider: send its due deliveries in full batches for up to
    `seconds`, then schedule the next drain for when the next delivery falls due (a row held back
    by the rate limiter waits there, not in the worker)."""
    if settings.REDIS_URL:
        _redis(settings.REDIS_URL).delete(DRAIN_MARK_PREFIX + provider)
    deadline = time.monotonic() + (seconds or settings.OUTBOX_DRAIN_SECONDS)
    total = 0
    while time.monotonic() < deadline:
        if lingering := linger_left(provider):
            # A partial batch waits for company, in the broker, not in this worker.
            schedule_drain(provider, countdown=lingering)
            return total
        sent = send_due(provider=provider)
        if not sent:
            break
        total += sent
    wait = seconds_until_due(provider)
    if wait is not None and wait <= settings.OUTBOX_RESCHEDULE_SECONDS:
        schedule_drain(provider, countdown=wait)
    return total


@dataclass
class SettleReport:
    found: int = 0
    resent: int = 0
    needs_person: int = 0
    errors: list = field(default_factory=list)


def settle_ambiguous(*, provider, limit=None):
    """Look at the provider for each ambiguous delivery whose operation knows how: found ->
    succeeded; absent -> queued to send again; undecidable -> stays ambiguous, with the reason
    for a person. An error on one row is reported and the others go on."""
    report = SettleReport()
    ambiguous = Delivery.objects.filter(provider=provider, state=DeliveryState.AMBIGUOUS).order_by(
        "id"
    )
    for delivery in ambiguous[: limit or settings.SYNC_BATCH_LIMIT]:
        try:
            spec = registry.spec_for(delivery.provider, delivery.operation)
            if spec.settle is None:
                continue
            settlement = spec.settle(delivery)
        except NeedsPerson as reason:
            report.needs_person += 1
            Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.AMBIGUOUS).update(
                error=str(reason)[:5_000], updated_at=timezone.now()
            )
            continue
        except Exception as error:
            report.errors.append(f"{delivery.target}: {getattr(error, 'text', error)}")
            continue
        now = timezone.now()
        if settlement == Settlement.FOUND:
            report.found += 1
            Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.AMBIGUOUS).update(
                state=DeliveryState.SUCCEEDED,
                error="Settled by sync: the provider has it (found by reference).",
                finished_at=now,
                updated_at=now,
            )
        else:
            report.resent += 1
            Delivery.objects.filter(pk=delivery.pk, state=DeliveryState.AMBIGUOUS).update(
                state=DeliveryState.QUEUED,
                next_attempt_at=now,
                may_have_reached=False,
                error="Settled by sync: the provider does not have it; sending again.",
                updated_at=now,
            )
    return report


def retry_now(*, delivery_id, actor_label, checked_absent=False):
    """Staff: send a dead, failed or ambiguous delivery again at once.

    An operation unsafe to repeat whose earlier attempt may have reached the provider looks
    there first; `checked_absent` is a person's word that they looked and the provider does not
    have it, so it is sent without looking (for a provider that cannot be asked).
    """
    fields = {}
    if checked_absent:
        fields["may_have_reached"] = False
    checked = ": checked, the provider does not have it" if checked_absent else ""
    return Delivery.objects.filter(
        pk=delivery_id,
        state__in=[DeliveryState.DEAD, DeliveryState.FAILED, DeliveryState.AMBIGUOUS],
    ).update(
        state=DeliveryState.QUEUED,
        next_attempt_at=timezone.now(),
        finished_at=None,
        failure="",
        settled_by="",
        settled_at=None,
        error=f"Retry requested by {actor_label}{checked}.",
        updated_at=timezone.now(),
        **fields,
    )


def give_up(*, delivery_id, actor_label):
    """Staff: stop trying; the delivery is failed and no longer holds back later ones."""
    now = timezone.now()
    return Delivery.objects.filter(
        pk=delivery_id,
        state__in=[DeliveryState.QUEUED, DeliveryState.DEAD, DeliveryState.AMBIGUOUS],
    ).update(
        state=DeliveryState.FAILED,
        failure=DeliveryFailure.GIVEN_UP,
        settled_by=actor_label,
        settled_at=now,
        finished_at=now,
        error=f"Given up by {actor_label}.",
        updated_at=now,
    )


def acknowledge(*, delivery_id, actor_label):
    """Staff: a person has read why the delivery failed and dealt with it; it no longer needs
    a person. Its failure and the provider's words stay as they were."""
    now = timezone.now()
    return Delivery.objects.filter(
        pk=delivery_id, state=DeliveryState.FAILED, settled_at__isnull=True
    ).update(settled_by=actor_label, settled_at=now, updated_at=now)
