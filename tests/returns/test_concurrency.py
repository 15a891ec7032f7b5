"""Two return requests at once for the same line never exceed the ordered quantity together:
the order row is locked. PostgreSQL (row locks); SQLite serialises writers by itself."""

import threading
import time

import pytest
from django.db import connection, connections

from core.actors import Actor
from core.errors import ActionError
from returns import services
from returns.models import ReturnLine
from tests.factories import UserFactory
from tests.returns.helpers import returnable_order

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("staff_groups")]


def backends_waiting_on_a_lock():
    with connection.cursor() as cursor:
        # Inside a transaction pg_stat_activity is read once and kept: clear it to look again.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE wait_event_type = 'Lock' AND datname = current_database()"
        )
        return cursor.fetchone()[0]


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_the_second_request_waits_for_the_first_and_sees_its_quantity():
    staff = Actor.staff(UserFactory(groups=["support"]))
    order = returnable_order(quantity=3)
    line = order.lines.get()
    answers = {}
    second = []

    def request(name):
        try:
            services.request_return(
                order_id=order.pk, lines=[(line.pk, 2)], reason="Too small", actor=staff
            )
            answers[name] = "requested"
        except ActionError as error:
            answers[name] = error.message
        finally:
            connections.close_all()

    real_returnable_lines = services.returnable_lines

    def first_waits_for_the_second(order_):
        """The first request holds the order's row lock: start the second and let it reach
        the lock before the first goes on (the worst moment), seen in pg_stat_activity."""
        rows = real_returnable_lines(order_)
        if threading.current_thread().name == "first":
            thread = threading.Thread(target=request, args=("second",), name="second")
            second.append(thread)
            thread.start()
            deadline = time.monotonic() + 10
            while not backends_waiting_on_a_lock() and time.monotonic() < deadline:
                time.sleep(0.02)
            answers["second was waiting"] = backends_waiting_on_a_lock() > 0
        return rows

    services.returnable_lines = first_waits_for_the_second
    try:
        first = threading.Thread(target=request, args=("first",), name="first")
        first.start()
        first.join(timeout=30)
        second[0].join(timeout=30)
    finally:
        services.returnable_lines = real_returnable_lines

    assert answers["second was waiting"] is True, answers
    assert answers["first"] == "requested"
    assert answers["second"] == (
        f"{line.sku}: 2 is more than the 1 that can still be returned (3 ordered, 2 in other "
        "returns)."
    )
    assert sum(ReturnLine.objects.filter(order_line=line).values_list("quantity", flat=True)) == 2
