"""What both 35up state machines (orders and returns) share: the history of every change and the
one entry point for the statuses 35up reports.

A provider report is applied as reported, skipped steps allowed; a report older than the last one
applied is ignored; the final status is never left; a move outside the documented graph is
applied (35up is the truth) and marked as unexpected, on the subject and in its history.
"""

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from core.actors import Actor, ChangeSource


class ReportOutcome:
    APPLIED = "applied"
    UNEXPECTED = "unexpected"
    UNCHANGED = "unchanged"
    STALE = "stale"
    CLOSED = "closed"
    # Not applied: a change of ours is still on its way to the provider.
    HELD_BACK = "held back"


def is_reachable(moves, current, reported):
    """True when the graph `moves` ({status: {next statuses}}) reaches `reported` from `current`:
    35up may skip steps (approved -> fulfilled), but never moves backwards out of the graph."""
    seen, frontier = set(), [current]
    while frontier:
        for status in moves.get(frontier.pop(), ()):
            if status == reported:
                return True
            if status not in seen:
                seen.add(status)
                frontier.append(status)
    return False


class StatusChange(models.Model):
    """One row per status change: who or what, when, from, to, why.

    A concrete history names its subject's foreign key in `subject_field`.
    """

    subject_field = None

    message = models.TextField(blank=True)
    source = models.CharField(max_length=16, choices=ChangeSource.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True)
    unexpected = models.BooleanField(default=False)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]

    def __str__(self):
        return f"{self.from_status} -> {self.to_status}"

    @classmethod
    def record(cls, *, subject, from_status, actor: Actor, message="", unexpected=False):
        return cls.objects.create(
            **{cls.subject_field: subject},
            from_status=from_status,
            to_status=subject.status,
            message=message,
            source=actor.source,
            user=actor.user,
            actor_label=actor.label,
            unexpected=unexpected,
        )


def apply_status_report(
    *,
    model,
    pk,
    status,
    reported_at,
    reported_at_field,
    moves,
    final_status,
    history,
    actor,
    message="",
):
    """Apply a status the provider reports to one row of `model`, locked for the change.

    The model has `status` (an FSM field with an `apply_reported_status(status)` transition),
    `status_unexpected`, `updated_at` and the provider's timestamp of the last report applied
    (`reported_at_field`). Returns (outcome, subject, from_status); the
    caller publishes what the change means, inside its own transaction.
    """
    with transaction.atomic():
        subject = model.objects.select_for_update().get(pk=pk)
        from_status = subject.status
        if from_status == final_status:
            return ReportOutcome.CLOSED, subject, from_status
        last = getattr(subject, reported_at_field)
        if reported_at and last and reported_at < last:
            return ReportOutcome.STALE, subject, from_status
        if reported_at:
            setattr(subject, reported_at_field, reported_at)
        if status == from_status:
            subject.save(update_fields=[reported_at_field, "updated_at"])
            return ReportOutcome.UNCHANGED, subject, from_status
        expected = is_reachable(moves, from_status, status)
        subject.apply_reported_status(status)
        subject.status_unexpected = not expected
        subject.save()
        history.record(
            subject=subject,
            from_status=from_status,
            actor=actor,
            message=message or ("" if expected else "35up reported a move outside its graph."),
            unexpected=not expected,
        )
    outcome = ReportOutcome.APPLIED if expected else ReportOutcome.UNEXPECTED
    return outcome, subject, from_status
