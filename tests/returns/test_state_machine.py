"""Every edge of the 35up return graph (DESIGN.md "Return"), allowed and refused, with history
rows; the provider entry point's skipped, stale, closed and unexpected cases."""

from datetime import UTC, datetime, timedelta

import pytest

from core.actors import Actor
from core.errors import PermissionRefused, TransitionRefused
from core.statemachine import ReportOutcome
from outbox import services as outbox
from returns.models import REPORTED_MOVES, Return, ReturnStatus
from returns.services import SHOP_ACTIONS, apply_reported_status, request_transition
from tests.factories import UserFactory
from tests.returns.helpers import return_in_status

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("staff_groups")]

R = ReturnStatus
REPORTED_EDGES = [
    (source, target) for source, targets in REPORTED_MOVES.items() for target in targets
]
# The statuses the shop may set, and from where (DESIGN.md: cancelled from created and
# awaiting_return; seller_received; seller_shipped; customer_shipped).
SHOP_EDGES = {
    "cancel": ({R.NEW, R.CREATED, R.AWAITING_RETURN}, R.CANCELLED),
    "mark_customer_shipped": ({R.AWAITING_RETURN}, R.CUSTOMER_SHIPPED),
    "mark_seller_received": ({R.AWAITING_RETURN, R.CUSTOMER_SHIPPED}, R.SELLER_RECEIVED),
    "mark_seller_shipped": ({R.SELLER_RECEIVED}, R.SELLER_SHIPPED),
}
NOON = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


@pytest.fixture
def staff():
    return Actor.staff(UserFactory(groups=["support"]))


def test_the_graph_is_the_documented_one():
    assert len(R.values) == 17  # 35up's sixteen return statuses and our local `new`
    assert len(REPORTED_EDGES) == 26 + 1  # DESIGN.md's 26 moves and the answer to POST /returns
    assert REPORTED_MOVES[R.CLOSED] == set()
    for final in (R.REFUNDED, R.REJECTED, R.EXPIRED, R.VOIDED, R.CANCELLED):
        assert R.CLOSED in REPORTED_MOVES[final]


@pytest.mark.parametrize(("source", "target"), REPORTED_EDGES)
def test_each_reported_move_is_applied_with_a_history_row(source, target):
    return_request = return_in_status(source)

    outcome = apply_reported_status(return_id=return_request.pk, status=target, reported_at=NOON)

    return_request.refresh_from_db()
    change = return_request.history.get()
    assert outcome == ReportOutcome.APPLIED
    assert return_request.status == target
    assert not return_request.status_unexpected
    assert (change.from_status, change.to_status, change.source, change.unexpected) == (
        source,
        target,
        "provider",
        False,
    )
    assert change.actor_label == "35up sync"
    assert return_request.thirtyfiveup_updated_at == NOON


def test_skipped_steps_are_expected():
    return_request = return_in_status(R.CREATED)

    outcome = apply_reported_status(return_id=return_request.pk, status=R.REFUNDED)

    return_request.refresh_from_db()
    assert outcome == ReportOutcome.APPLIED
    assert (return_request.status, return_request.status_unexpected) == (R.REFUNDED, False)


def test_a_move_outside_the_graph_is_applied_and_marked():
    return_request = return_in_status(R.REFUNDED)

    outcome = apply_reported_status(return_id=return_request.pk, status=R.AWAITING_RETURN)

    return_request.refresh_from_db()
    change = return_request.history.get()
    assert outcome == ReportOutcome.UNEXPECTED
    assert (return_request.status, return_request.status_unexpected) == (R.AWAITING_RETURN, True)
    assert change.unexpected
    assert change.message == "35up reported a move outside its graph."


def test_closed_is_final():
    return_request = return_in_status(R.CLOSED)

    outcome = apply_reported_status(return_id=return_request.pk, status=R.REFUNDED)

    return_request.refresh_from_db()
    assert outcome == ReportOutcome.CLOSED
    assert return_request.status == R.CLOSED
    assert not return_request.history.exists()


def test_a_stale_report_is_ignored():
    return_request = return_in_status(R.AWAITING_RETURN)
    apply_reported_status(return_id=return_request.pk, status=R.CUSTOMER_SHIPPED, reported_at=NOON)

    outcome = apply_reported_status(
        return_id=return_request.pk,
        status=R.CANCELLED,
        reported_at=NOON - timedelta(minutes=1),
    )

    return_request.refresh_from_db()
    assert outcome == ReportOutcome.STALE
    assert return_request.status == R.CUSTOMER_SHIPPED
    assert return_request.history.count() == 1


def test_the_same_status_again_changes_nothing_but_the_clock():
    return_request = return_in_status(R.AWAITING_RETURN)

    outcome = apply_reported_status(
        return_id=return_request.pk, status=R.AWAITING_RETURN, reported_at=NOON
    )

    return_request.refresh_from_db()
    assert outcome == ReportOutcome.UNCHANGED
    assert return_request.thirtyfiveup_updated_at == NOON
    assert not return_request.history.exists()


@pytest.mark.parametrize("status", [R.NEW, "approved", "teleported"])
def test_what_is_not_a_35up_return_status_is_refused(status):
    return_request = return_in_status(R.CREATED)
    with pytest.raises(TransitionRefused):
        apply_reported_status(return_id=return_request.pk, status=status)


@pytest.mark.parametrize("action", SHOP_ACTIONS)
@pytest.mark.parametrize("status", [s for s in R.values])
def test_each_shop_action_from_each_status(action, status, staff):
    sources, target = SHOP_EDGES[action]
    return_request = return_in_status(status)

    if status in sources:
        change = request_transition(
            return_id=return_request.pk, action=action, actor=staff, message="parcel NL123"
        )
        return_request.refresh_from_db()
        assert return_request.status == target
        assert (change.from_status, change.to_status, change.source, change.message) == (
            status,
            target,
            "staff",
            "parcel NL123",
        )
        if status == R.NEW:
            # 35up never accepted it: cancelled here only, nothing to tell 35up.
            assert not outbox.for_subject(return_request).exists()
        else:
            patch = outbox.for_subject(return_request).get()
            assert (patch.provider, patch.operation, patch.payload) == (
                "35up",
                "update_return_status",
                {"status": target},
            )
    else:
        with pytest.raises(TransitionRefused) as refused:
            request_transition(return_id=return_request.pk, action=action, actor=staff)
        return_request.refresh_from_db()
        assert return_request.status == status
        assert f"Return {return_request.pk} is " in refused.value.message
        assert not return_request.history.exists()
        assert not outbox.for_subject(return_request).exists()


@pytest.mark.parametrize("action", SHOP_ACTIONS)
def test_each_shop_action_needs_its_own_permission(action):
    sources, _ = SHOP_EDGES[action]
    return_request = return_in_status(sorted(sources)[0])
    nobody = Actor.staff(UserFactory())

    with pytest.raises(PermissionRefused):
        request_transition(return_id=return_request.pk, action=action, actor=nobody)

    assert Return.objects.get(pk=return_request.pk).status == return_request.status


@pytest.mark.parametrize(
    ("path", "released"),
    [
        ([R.CANCELLED, R.CLOSED], True),
        ([R.REJECTED, R.CLOSED], True),
        ([R.EXPIRED, R.CLOSED], True),
        ([R.REFUNDED, R.CLOSED], False),
        ([R.VOIDED, R.CLOSED], False),
        ([R.CANCELLED, R.AWAITING_RETURN], False),
    ],
)
def test_a_return_keeps_its_items_released_once_closed(path, released):
    return_request = return_in_status(R.CREATED)
    for status in path:
        apply_reported_status(return_id=return_request.pk, status=status)
    return_request.refresh_from_db()
    assert return_request.items_released is released


def test_cancelling_releases_the_items(staff):
    return_request = return_in_status(R.AWAITING_RETURN)
    request_transition(return_id=return_request.pk, action="cancel", actor=staff)
    return_request.refresh_from_db()
    assert return_request.items_released


def test_the_transitions_declare_their_permissions():
    field = Return._meta.get_field("status")
    permissions = {t.name: t.permission for t in field.get_all_transitions(Return) if t.permission}
    assert permissions == {
        "cancel": "returns.cancel_return",
        "mark_customer_shipped": "returns.mark_customer_shipped_return",
        "mark_seller_received": "returns.mark_seller_received_return",
        "mark_seller_shipped": "returns.mark_seller_shipped_return",
    }
