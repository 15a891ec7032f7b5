"""What each (provider, operation) delivery does, declared by the layer that knows the provider.

The integrations register one OperationSpec per operation in their AppConfig.ready(); the engine
looks each claimed delivery up here. A spec says:
- `handler(deliveries) -> {delivery id: Outcome or exception}`: performs up to `batch_size`
  deliveries in one go and reports each member on its own, so one bad member fails alone;
- `unsafe_to_repeat`: a lost answer makes the delivery ambiguous instead of retried;
- `settle(delivery) -> Settlement`: how an ambiguous outcome is settled by looking at the
  provider (None: only a person can settle it);
- `strict_sequence`: later deliveries of the same subject to this provider wait until this one is
  settled (a PATCH never overtakes the POST that creates its subject); otherwise they wait only
  while it is in flight;
- `coalesce`: a new delivery joins one still queued (an upsert built when it is sent carries
  every change made before);
- `linger_seconds`: with a broker, how long a drain waits for a batch to fill.
"""

from dataclasses import dataclass
from enum import Enum


class Settlement(Enum):
    FOUND = "found"  # the provider has it: the delivery succeeded
    ABSENT = "absent"  # the provider does not have it: safe to send again


class NeedsPerson(Exception):
    """The hub cannot decide alone; the delivery stays ambiguous with this message."""


class UnknownOperation(LookupError):
    pass


@dataclass(frozen=True)
class OperationSpec:
    provider: str
    operation: str
    label: str
    handler: object
    batch_size: int = 1
    unsafe_to_repeat: bool = False
    settle: object = None
    strict_sequence: bool = False
    coalesce: bool = False
    linger_seconds: float = 0.0

    @property
    def key(self):
        return (self.provider, self.operation)


_specs = {}
_provider_labels = {}


def register(spec: OperationSpec):
    if spec.batch_size < 1:
        raise ValueError(f"{spec.key}: batch_size must be at least 1.")
    _specs[spec.key] = spec


def register_provider(provider, label):
    _provider_labels[provider] = label


def spec_for(provider, operation) -> OperationSpec:
    try:
        return _specs[(provider, operation)]
    except KeyError:
        raise UnknownOperation(f"No handler is registered for {provider} {operation}.") from None


def specs():
    return list(_specs.values())


def provider_label(provider):
    return _provider_labels.get(provider, provider)


def operation_label(provider, operation):
    spec = _specs.get((provider, operation))
    return spec.label if spec else operation


def providers():
    return list(_provider_labels)


def sequence_key(provider, subject_type, subject_id):
    return f"{provider}:{subject_type}:{subject_id}"
