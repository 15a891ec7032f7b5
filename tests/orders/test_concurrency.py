"""Twenty approve requests for one order at the same moment, each on its own thread and database
connection, through the service the admin and the API use: one status change, one PATCH
delivery, nineteen clear conflict answers, on PostgreSQL (row locks) and SQLite (file lock)."""

import threading
from collections import Counter
from unittest import mock

import pytest
from django.db import connections

from core.actors import Actor
from core.errors import ActionError
from integrations.operations import UPDATE_ORDER_STATUS
from orders import services
from outbox import services as outbox
from outbox.models import Delivery
from tests.factories import UserFactory, order_in_status

REQUESTS = 20

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("staff_groups"),
]


def test_twenty_simultaneous_approvals_give_one_change_one_patch_and_nineteen_conflicts(
    settings,
):
    settings.THIRTYFIVEUP_USERNAME, settings.THIRTYFIVEUP_PASSWORD = "seller", "secret"
    staff = UserFactory(groups=["support"])
    order = order_in_status("pending", thirtyfiveup_id="42CA346434")
    Delivery.objects.all().delete()
    # Every request has read the order as pending before any of them writes: the worst case.
    all_loaded = threading.Barrier(REQUESTS, timeout=30)
    real_can_proceed = services.can_proceed

    def can_proceed_then_wait(method):
        allowed = real_can_proceed(method)
        all_loaded.wait()
        return allowed

    answers = []

    def approve():
        try:
            services.request_transition(
                order_id=order.pk, action="approve", actor=Actor.staff(staff), message="paid"
            )
            answers.append(("approved", ""))
        except ActionError as error:
            answers.append((type(error).__name__, error.message))
        finally:
            connections.close_all()

    with mock.patch("orders.services.can_proceed", can_proceed_then_wait):
        threads = [threading.Thread(target=approve) for _ in range(REQUESTS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=60)

    outcomes = Counter(kind for kind, _ in answers)
    print(f"\nCONCURRENCY: {REQUESTS} simultaneous approvals -> {dict(outcomes)}")
    assert outcomes == {"approved": 1, "Conflict": REQUESTS - 1}
    assert all(
        "was changed by someone else at the same moment" in message
        for kind, message in answers
        if kind == "Conflict"
    )
    order.refresh_from_db()
    assert order.status == "approved"
    assert order.history.filter(from_status="pending", to_status="approved").count() == 1
    patches = outbox.for_subject(order).filter(operation=UPDATE_ORDER_STATUS)
    assert patches.count() == 1
    assert patches.get().payload == {"status": "approved", "message": "paid"}
