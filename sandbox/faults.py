"""Fault injection: which fault a request gets, and the fault configuration.

A request gets the faults named in its `X-Sandbox-Fault` header if it has one; otherwise the
first matching entry of the configured queue; otherwise one draw from the seeded random
generator against the configured rates. Semantics (docs/sandbox.md):
  500, 503   answered at once, nothing applied
  429        answered at once with Retry-After, nothing applied
  timeout    waits `timeout_seconds`, then 504; nothing applied
  drop       applied and committed, then waits `timeout_seconds`, then the normal answer
  latency    waits that many milliseconds first, then handles the request normally
The configuration also holds two switches that are no fault of one request: while
`ignore_list_filters` is on, the list endpoints keep only the filters the providers' documents
promise; while `omit_order_returns` is on, 35up's order answers carry no `returns`.
"""

import random
import threading
import time
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from .models import Provider, SandboxFaults

FAULT_HEADER = "X-Sandbox-Fault"
OUTCOMES = ("500", "503", "429", "timeout", "drop")
RATE_FIELDS = {
    "error_rate": "500",
    "timeout_rate": "timeout",
    "rate_limit_rate": "429",
    "drop_rate": "drop",
}
CONFIG_FIELDS = (
    *RATE_FIELDS,
    "latency_ms",
    "retry_after_seconds",
    "timeout_seconds",
    "seed",
    "queue",
    "ignore_list_filters",
    "omit_order_returns",
)


class UnknownFault(ValueError):
    pass


@dataclass(frozen=True)
class Fault:
    outcome: str = ""  # one of OUTCOMES, or "" for a normal answer
    latency_ms: int = 0

    @property
    def label(self):
        parts = [f"latency={self.latency_ms}"] if self.latency_ms else []
        return ",".join([*parts, self.outcome] if self.outcome else parts)


NO_FAULT = Fault()


def parse_fault(text):
    """ "latency=200, 503" -> Fault("503", 200)."""
    outcome, latency_ms = "", 0
    for part in (item.strip() for item in text.split(",")):
        if not part:
            continue
        if part.startswith("latency="):
            value = part.removeprefix("latency=")
            if not value.isdigit():
                raise UnknownFault(f"latency must be whole milliseconds, not {value!r}")
            latency_ms = int(value)
        elif part in OUTCOMES:
            outcome = part
        else:
            raise UnknownFault(
                f"unknown fault {part!r}; expected {', '.join(OUTCOMES)} or latency=<ms>"
            )
    return Fault(outcome, latency_ms)


def pause(seconds):
    """The only place the sandbox sleeps; tests replace it."""
    if seconds > 0:
        time.sleep(seconds)


def timeout_seconds(faults):
    if faults.timeout_seconds is not None:
        return faults.timeout_seconds
    return settings.PROVIDER_READ_TIMEOUT + 1


class _SeededRandom:
    """One generator per process, reseeded whenever the configuration was saved again."""

    def __init__(self):
        self._lock = threading.Lock()
        self._key = None
        self._random = random.Random()

    def draw(self, faults):
        with self._lock:
            key = (faults.seed, faults.configured_at)
            if key != self._key:
                self._random = random.Random(faults.seed)
                self._key = key
            return self._random.random()


_random = _SeededRandom()


def fault_for(*, provider, method, header):
    """The fault this request gets, and the configuration it was chosen from."""
    faults = SandboxFaults.load()
    if header:
        return parse_fault(header), faults
    if faults.queue:
        queued = _pop_queued(provider=provider, method=method)
        if queued:
            return Fault(queued, faults.latency_ms), faults
    draw = _random.draw(faults) if any(getattr(faults, f) for f in RATE_FIELDS) else 1.0
    threshold = 0.0
    for field, outcome in RATE_FIELDS.items():
        threshold += getattr(faults, field)
        if draw < threshold:
            return Fault(outcome, faults.latency_ms), faults
    return Fault("", faults.latency_ms), faults


def _pop_queued(*, provider, method):
    with transaction.atomic():
        faults = SandboxFaults.objects.select_for_update().get(pk=1)
        for index, entry in enumerate(faults.queue):
            if entry.get("provider", provider) == provider and (
                entry.get("method", method).upper() == method
            ):
                remaining = faults.queue[:index] + faults.queue[index + 1 :]
                # update() leaves configured_at alone: popping must not reseed the generator.
                SandboxFaults.objects.filter(pk=1).update(queue=remaining)
                return entry["fault"]
    return ""


def _validate_queue(queue):
    if not isinstance(queue, list):
        raise ValidationError({"queue": "must be a list"})
    for index, entry in enumerate(queue):
        if not isinstance(entry, dict) or entry.get("fault") not in OUTCOMES:
            raise ValidationError(
                {"queue": f"entry {index}: needs a fault, one of {', '.join(OUTCOMES)}"}
            )
        if entry.get("provider", Provider.THIRTYFIVEUP) not in Provider.values:
            raise ValidationError(
                {"queue": f"entry {index}: provider must be one of {', '.join(Provider.values)}"}
            )
        if not isinstance(entry.get("method", "GET"), str):
            raise ValidationError({"queue": f"entry {index}: method must be a string"})


@transaction.atomic
def configure_faults(**changes):
    """Change the given fields of the fault configuration (others stay), and reseed."""
    unknown = set(changes) - set(CONFIG_FIELDS)
    if unknown:
        raise ValidationError({name: "unknown setting" for name in sorted(unknown)})
    faults = SandboxFaults.load()
    faults = SandboxFaults.objects.select_for_update().get(pk=faults.pk)
    for name, value in changes.items():
        setattr(faults, name, value)
    if "queue" in changes:
        _validate_queue(faults.queue)
    faults.configured_at = timezone.now()
    faults.full_clean()
    total = sum(getattr(faults, field) for field in RATE_FIELDS)
    if total > 1:
        raise ValidationError({"error_rate": f"the four rates add up to {total}, more than 1"})
    faults.save()
    return faults


@transaction.atomic
def reset_faults():
    SandboxFaults.objects.filter(pk=1).delete()
    return configure_faults()


def describe(faults):
    return {
        **{name: getattr(faults, name) for name in CONFIG_FIELDS},
        "timeout_seconds": timeout_seconds(faults),
    }
