"""A small in-transaction domain-event bus.

A domain service publishes an event ("order approved") inside the transaction of its change; the
subscribers run at once, in that same transaction, so what they write (an outbox delivery)
commits or rolls back with the change. Domain apps publish without knowing who listens; the
integrations subscribe in their AppConfig.ready(). The bus is not a queue: anything slow or
remote belongs in what a subscriber writes, never in the subscriber itself.
"""

from collections import defaultdict

from django.db import connection

_subscribers = defaultdict(list)


def subscribe(event_type, handler):
    """Call `handler(event)` for every published event of `event_type` (idempotent)."""
    if handler not in _subscribers[event_type]:
        _subscribers[event_type].append(handler)


def unsubscribe(event_type, handler):
    if handler in _subscribers[event_type]:
        _subscribers[event_type].remove(handler)


def subscribers(event_type):
    return list(_subscribers[event_type])


class NotInTransaction(RuntimeError):
    pass


def publish(event):
    """Run every subscriber of the event's type, in the caller's transaction."""
    if not connection.in_atomic_block:
        raise NotInTransaction(
            f"{type(event).__name__} published outside a transaction: its subscribers' writes "
            "would not commit together with the change."
        )
    for handler in list(_subscribers[type(event)]):
        handler(event)
