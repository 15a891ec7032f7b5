"""The in-transaction event bus: subscribers run in the publisher's transaction, so what they
write commits or rolls back with the change; publishing outside a transaction is refused."""

from dataclasses import dataclass

import pytest
from django.db import transaction

from core import events
from core.actors import Actor
from orders.events import OrderReceived
from orders.ingest import ingest_order
from orders.models import Order
from outbox import services as outbox
from tests.outbox.test_fault_soak import document


@dataclass(frozen=True)
class Pinged:
    value: int


@pytest.fixture
def heard():
    received = []

    def listener(event):
        received.append((event.value, transaction.get_connection().in_atomic_block))

    events.subscribe(Pinged, listener)
    yield received
    events.unsubscribe(Pinged, listener)


@pytest.mark.django_db
def test_subscribers_run_inside_the_publishers_transaction(heard):
    with transaction.atomic():
        events.publish(Pinged(1))
    assert heard == [(1, True)]


def test_publishing_outside_a_transaction_is_refused(heard):
    with pytest.raises(events.NotInTransaction):
        events.publish(Pinged(2))
    assert heard == []


def test_subscribing_twice_calls_once(heard):
    events.subscribe(Pinged, events.subscribers(Pinged)[0])
    assert len(events.subscribers(Pinged)) == 1


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_leaves_no_delivery():
    """The integrations write deliveries from the domain's event in the same transaction."""

    class Refused(Exception):
        pass

    def refuse(event):
        raise Refused

    # Subscribed last: runs after the integrations' subscriber has written the deliveries.
    events.subscribe(OrderReceived, refuse)
    try:
        with pytest.raises(Refused):
            ingest_order(document(1), actor=Actor.system("test"))
    finally:
        events.unsubscribe(OrderReceived, refuse)
    assert not Order.objects.exists()
    assert not outbox.for_subject(Order(pk=1)).exists()
    order = ingest_order(document(1), actor=Actor.system("test")).order
    assert {d.provider for d in outbox.for_subject(order)} == {"35up", "shipup"}
