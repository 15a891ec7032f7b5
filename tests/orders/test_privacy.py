"""Anonymising closed orders (orders.privacy, manage.py anonymise_orders, the beat task)."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from config.celery import schedule_periodic_tasks
from core.actors import Actor, ChangeSource
from core.errors import ActionError
from orders.models import Order, OrderStatus, OrderStatusChange
from orders.privacy import anonymise_closed_orders, anonymise_order
from orders.services import apply_reported_status
from orders.tasks import anonymise_closed_orders_task
from outbox.models import Delivery, DeliveryState
from returns.models import ReturnStatus
from tests.factories import DeliveryFactory, UserFactory, order_in_status
from tests.returns.helpers import return_in_status

pytestmark = pytest.mark.django_db

SYSTEM = Actor.system("anonymise_orders")


def closed_days_ago(days, status=OrderStatus.CLOSED, order=None):
    """An order in `status` whose last status change was `days` days ago; its deliveries done."""
    order = order or order_in_status(OrderStatus.DELIVERED)
    if order.status != status:
        apply_reported_status(order_id=order.pk, status=status)
    Delivery.objects.filter(subject_id=order.pk).update(state=DeliveryState.SUCCEEDED)
    OrderStatusChange.objects.filter(order=order).update(
        created_at=timezone.now() - timedelta(days=days)
    )
    return Order.objects.get(pk=order.pk)


def run(days=365, **kwargs):
    return anonymise_closed_orders(older_than_days=days, actor=SYSTEM, **kwargs)


def test_names_email_phone_and_address_are_replaced_numbers_lines_and_history_stay():
    order = closed_days_ago(400)
    lines = list(order.lines.values_list("sku", "quantity", "unit_price"))
    history = list(order.history.values_list("from_status", "to_status"))
    delivery = DeliveryFactory(
        subject=order,
        state=DeliveryState.SUCCEEDED,
        request={"body": '{"name": "Jeffrey"}'},
        response_body='{"name": "Jeffrey"}',
    )

    report = run()

    assert report.anonymised == 1 and report.held == []
    order.refresh_from_db()
    for name in ["first_name", "last_name", "shipping_first_name", "shipping_last_name"]:
        assert getattr(order, name) == "anonymised"
    assert order.email == order.shipping_email == f"anonymised-{order.pk}@example.invalid"
    assert (order.phone, order.shipping_phone, order.shipping_company) == ("", "", "")
    assert (order.shipping_street, order.shipping_city) == ("anonymised", "anonymised")
    assert (order.shipping_street_number, order.shipping_postcode, order.shipping_extra) == (
        "",
        "",
        "",
    )
    assert "Jeffrey" not in str(Order.objects.filter(pk=order.pk).values().get())
    assert order.anonymised_at is not None
    # What is not personal stays.
    assert order.reference.startswith("ORD-") and order.status == OrderStatus.CLOSED
    assert list(order.lines.values_list("sku", "quantity", "unit_price")) == lines
    assert list(order.history.values_list("from_status", "to_status"))[:-1] == history
    # The stored request and answer of its deliveries carried the same data.
    delivery.refresh_from_db()
    assert delivery.request == {}
    assert "Jeffrey" not in delivery.response_body


def test_the_history_says_who_anonymised_and_why():
    order = closed_days_ago(400)

    run()

    entry = order.history.last()
    assert (entry.from_status, entry.to_status) == (OrderStatus.CLOSED, OrderStatus.CLOSED)
    assert entry.source == ChangeSource.SYSTEM
    assert entry.actor_label == "anonymise_orders"
    assert entry.message == (
        "Personal data anonymised: closed or cancelled more than 365 days ago."
    )


def test_a_second_run_changes_nothing():
    order = closed_days_ago(400)
    run()
    order.refresh_from_db()
    first = (order.anonymised_at, order.history.count())

    report = run()

    order.refresh_from_db()
    assert report.anonymised == 0 and report.held == []
    assert (order.anonymised_at, order.history.count()) == first


def test_cancelled_orders_count_as_closed():
    order = closed_days_ago(400, status=OrderStatus.CANCELLED, order=order_in_status("pending"))

    assert run().anonymised == 1
    order.refresh_from_db()
    assert order.last_name == "anonymised"


def test_orders_closed_too_recently_or_not_closed_are_left_alone():
    recent = closed_days_ago(10)
    open_order = order_in_status(OrderStatus.DELIVERED)
    OrderStatusChange.objects.filter(order=open_order).update(
        created_at=timezone.now() - timedelta(days=900)
    )

    report = run()

    assert report.anonymised == 0
    for order in (recent, open_order):
        assert Order.objects.get(pk=order.pk).last_name == order.last_name


def test_one_order_that_is_not_closed_is_refused_with_the_reason():
    order = order_in_status(OrderStatus.PENDING)

    reason = anonymise_order(
        order_id=order.pk, actor=SYSTEM, cutoff=timezone.now(), message="Personal data anonymised."
    )

    assert reason == "pending, not closed or cancelled"
    assert Order.objects.get(pk=order.pk).anonymised_at is None


def test_an_open_return_holds_the_order_back_with_the_reason():
    return_request = return_in_status(ReturnStatus.AWAITING_RETURN)
    order = closed_days_ago(400, order=return_request.order)

    report = run()

    assert report.anonymised == 0
    assert report.held == [
        (order.reference, f"return #{return_request.pk} is awaiting_return, still open")
    ]
    assert Order.objects.get(pk=order.pk).anonymised_at is None


def test_a_closed_return_does_not_hold_the_order_back():
    return_request = return_in_status(ReturnStatus.CLOSED)
    closed_days_ago(400, order=return_request.order)

    assert run().anonymised == 1


@pytest.mark.parametrize(
    "state", [DeliveryState.QUEUED, DeliveryState.AMBIGUOUS, DeliveryState.DEAD]
)
def test_an_unsettled_delivery_holds_the_order_back_with_the_reason(state):
    order = closed_days_ago(400)
    delivery = DeliveryFactory(subject=order, state=state)

    report = run()

    assert report.held == [
        (order.reference, f"delivery #{delivery.pk} to sendcloud is {state}, not settled")
    ]
    assert Order.objects.get(pk=order.pk).anonymised_at is None


def test_held_orders_go_once_what_held_them_is_settled():
    order = closed_days_ago(400)
    delivery = DeliveryFactory(subject=order, state=DeliveryState.AMBIGUOUS)
    assert run().anonymised == 0

    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.SUCCEEDED)

    assert run().anonymised == 1


def test_an_order_that_fails_is_left_as_it_was_and_the_others_go_on(monkeypatch):
    failing, other = closed_days_ago(400), closed_days_ago(400)
    record = OrderStatusChange.record.__func__

    def record_failing_for_one(cls, *, subject, **kwargs):
        if subject.pk == failing.pk:
            raise RuntimeError("disk full")
        return record(cls, subject=subject, **kwargs)

    monkeypatch.setattr(OrderStatusChange, "record", classmethod(record_failing_for_one))

    report = run()

    assert report.anonymised == 1
    assert report.held == [
        (failing.reference, "failed in the hub (the log has the error); left as it was")
    ]
    assert Order.objects.get(pk=failing.pk).last_name == failing.last_name
    assert Order.objects.get(pk=other.pk).anonymised_at is not None


def test_a_hold_check_that_fails_stops_no_run(monkeypatch):
    orders = [closed_days_ago(400) for _ in range(2)]

    def broken_check(order_ids):
        raise RuntimeError("returns table unreadable")

    monkeypatch.setattr("orders.privacy._holds", [broken_check])

    report = run()

    assert report.anonymised == 0
    assert report.held == [
        (order.reference, "failed in the hub (the log has the error); left as it was")
        for order in orders
    ]
    assert not Order.objects.filter(anonymised_at__isnull=False).exists()


def test_the_bounds_of_days_and_batch_size():
    with pytest.raises(ActionError, match="days"):
        run(days=0)
    with pytest.raises(ActionError, match="batch size"):
        run(batch_size=0)


def test_the_command_prints_progress_per_batch_and_each_order_held_back():
    orders = [closed_days_ago(400) for _ in range(3)]
    held = DeliveryFactory(subject=orders[1], state=DeliveryState.AMBIGUOUS)
    out = StringIO()

    call_command("anonymise_orders", "--older-than", "365", "--batch-size", "2", stdout=out)

    text = out.getvalue()
    assert "Batch 1: 1 anonymised, 1 held back so far." in text
    assert "Batch 2: 2 anonymised, 1 held back so far." in text
    assert (
        f"{orders[1].reference}: held back: delivery #{held.pk} to sendcloud is ambiguous" in text
    )
    assert "Done: 2 orders anonymised, 1 held back." in text


def test_the_command_records_the_user_who_ran_it():
    order = closed_days_ago(400)
    UserFactory(username="dpo")

    call_command("anonymise_orders", "--older-than", "365", "--user", "dpo", stdout=StringIO())

    entry = order.history.last()
    assert (entry.source, entry.actor_label, entry.user.username) == (
        ChangeSource.STAFF,
        "dpo",
        "dpo",
    )


def test_the_command_refuses_bad_input():
    with pytest.raises(CommandError, match="days"):
        call_command("anonymise_orders", "--older-than", "0", stdout=StringIO())
    with pytest.raises(CommandError, match="No user"):
        call_command("anonymise_orders", "--older-than", "9", "--user", "nobody")


def test_the_beat_task_is_off_by_default_and_runs_with_the_setting(settings):
    order = closed_days_ago(400)
    assert settings.ANONYMISE_AFTER_DAYS is None

    anonymise_closed_orders_task()
    assert Order.objects.get(pk=order.pk).anonymised_at is None

    settings.ANONYMISE_AFTER_DAYS = 365
    anonymise_closed_orders_task()
    assert Order.objects.get(pk=order.pk).anonymised_at is not None


class BeatSender:
    """Records what config.celery schedules."""

    def __init__(self):
        self.scheduled = {}

    def signature(self, name):
        return name

    def add_periodic_task(self, seconds, task, name):
        self.scheduled[task] = seconds


@pytest.mark.parametrize(("days", "scheduled"), [(None, False), (730, True)])
def test_beat_schedules_the_daily_run_only_with_the_setting(settings, days, scheduled):
    settings.ANONYMISE_AFTER_DAYS = days
    sender = BeatSender()

    schedule_periodic_tasks(sender)

    assert ("orders.anonymise_closed_orders" in sender.scheduled) is scheduled
    if scheduled:
        assert sender.scheduled["orders.anonymise_closed_orders"] == 24 * 3600
