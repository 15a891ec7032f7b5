"""Every edge of DESIGN.md's order graph, walked through the services as staff and 35up would."""

from datetime import UTC, datetime, timedelta
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django_fsm import TransitionNotAllowed

from core.actors import Actor
from core.errors import Conflict, PermissionRefused, TransitionRefused
from core.statemachine import ReportOutcome
from orders.models import Order, OrderStatus, OrderStatusChange
from orders.services import apply_reported_status, request_transition
from tests.factories import OrderFactory, UserFactory, order_in_status

pytestmark = pytest.mark.django_db

S = OrderStatus
ALL_STATUSES = list(S.values)
REPORTABLE = [status for status in ALL_STATUSES if status != S.NEW]

# DESIGN.md "Requested by the shop": (action, from) -> to.
SHOP_EDGES = {
    ("approve", S.PENDING): S.APPROVED,
    ("hold", S.APPROVED): S.PENDING,
    ("cancel", S.NEW): S.CANCELLED,
    ("cancel", S.PENDING): S.CANCELLED,
    ("cancel", S.APPROVED): S.PENDING_CANCELLATION,
    ("cancel", S.PROCESSING): S.PENDING_CANCELLATION,
}
REFUSED_SHOP_PAIRS = [
    (action, status)
    for action in ("approve", "hold", "cancel")
    for status in ALL_STATUSES
    if (action, status) not in SHOP_EDGES
]

STATUS_WORDS = {
    S.NEW: "new (not placed at 35up)",
    S.PENDING: "pending",
    S.APPROVED: "approved",
    S.PROCESSING: "processing",
    S.FULFILLED: "fulfilled",
    S.DELIVERED: "delivered",
    S.PENDING_CANCELLATION: "pending cancellation",
    S.CANCELLED: "cancelled",
    S.CLOSED: "closed",
}
ACTION_WORDS = {"approve": "approved", "hold": "put on hold", "cancel": "cancelled"}

# DESIGN.md "Reported by 35up", plus 35up's answer to placing a `new` order.
REPORTED_EDGES = [
    (S.NEW, S.PENDING),
    (S.NEW, S.APPROVED),
    (S.PENDING, S.APPROVED),
    (S.PENDING, S.CANCELLED),
    (S.APPROVED, S.PROCESSING),
    (S.APPROVED, S.PENDING_CANCELLATION),
    (S.APPROVED, S.CANCELLED),
    (S.APPROVED, S.PENDING),
    (S.PROCESSING, S.FULFILLED),
    (S.PROCESSING, S.PENDING_CANCELLATION),
    (S.FULFILLED, S.DELIVERED),
    (S.FULFILLED, S.CLOSED),
    (S.DELIVERED, S.CLOSED),
    (S.PENDING_CANCELLATION, S.CANCELLED),
    (S.PENDING_CANCELLATION, S.PROCESSING),
    (S.PENDING_CANCELLATION, S.FULFILLED),
    (S.CANCELLED, S.CLOSED),
]
# Steps 35up may skip: reachable through the graph, so expected.
SKIPPED_STEPS = [
    (S.NEW, S.DELIVERED),
    (S.PENDING, S.PROCESSING),
    (S.PENDING, S.DELIVERED),
    (S.PENDING, S.CLOSED),
    (S.APPROVED, S.FULFILLED),
    (S.APPROVED, S.DELIVERED),
    (S.PROCESSING, S.DELIVERED),
    (S.PROCESSING, S.CANCELLED),
    (S.PENDING_CANCELLATION, S.CLOSED),
]
# Backwards or sideways moves the graph never makes: applied, but marked unexpected.
OUTSIDE_GRAPH = [
    (S.DELIVERED, S.APPROVED),
    (S.CANCELLED, S.PROCESSING),
    (S.FULFILLED, S.PENDING),
    (S.DELIVERED, S.CANCELLED),
    (S.CANCELLED, S.APPROVED),
    (S.PROCESSING, S.APPROVED),
]


def history(order):
    return list(
        OrderStatusChange.objects.filter(order=order).values_list("from_status", "to_status")
    )


@pytest.fixture
def support_user():
    return UserFactory(groups=["support"])


@pytest.mark.parametrize(("action", "from_status"), list(SHOP_EDGES))
def test_shop_action_moves_the_order_along_its_edge(action, from_status, support_user):
    order = order_in_status(from_status)
    before = history(order)

    change = request_transition(
        order_id=order.pk, action=action, actor=Actor.staff(support_user), message="paid"
    )

    order.refresh_from_db()
    assert order.status == SHOP_EDGES[(action, from_status)]
    assert history(order) == [*before, (from_status, order.status)]
    assert (change.from_status, change.to_status) == (from_status, order.status)


@pytest.mark.parametrize(("action", "from_status"), REFUSED_SHOP_PAIRS)
def test_shop_action_outside_the_graph_is_refused_and_changes_nothing(
    action, from_status, support_user
):
    order = order_in_status(from_status)
    before = history(order)

    with pytest.raises(TransitionRefused) as refused:
        request_transition(order_id=order.pk, action=action, actor=Actor.staff(support_user))

    order.refresh_from_db()
    assert order.status == from_status
    assert history(order) == before
    assert refused.value.message == (
        f"Order {order.reference} is {STATUS_WORDS[from_status]}: "
        f"it cannot be {ACTION_WORDS[action]}."
    )


def test_refusal_message_names_the_order_and_its_status(support_user):
    order = order_in_status("delivered", reference="Order74927943")

    with pytest.raises(TransitionRefused) as refused:
        request_transition(order_id=order.pk, action="approve", actor=Actor.staff(support_user))

    assert refused.value.message == "Order Order74927943 is delivered: it cannot be approved."


def test_unknown_action_is_refused(support_user):
    order = order_in_status("pending")

    with pytest.raises(TransitionRefused) as refused:
        request_transition(order_id=order.pk, action="ship", actor=Actor.staff(support_user))

    assert refused.value.message == "'ship' is not an order action (approve, hold, cancel)."


def test_missing_order_is_refused(support_user):
    with pytest.raises(TransitionRefused) as refused:
        request_transition(order_id=987654, action="approve", actor=Actor.staff(support_user))

    assert refused.value.message == "Order 987654 does not exist."


@pytest.mark.parametrize(("from_status", "to_status"), REPORTED_EDGES)
def test_reported_edge_is_applied_as_expected(from_status, to_status):
    order = order_in_status(from_status)

    outcome = apply_reported_status(order_id=order.pk, status=to_status)

    order.refresh_from_db()
    assert outcome == ReportOutcome.APPLIED
    assert order.status == to_status
    assert order.status_unexpected is False
    last = order.history.last()
    assert (last.from_status, last.to_status, last.unexpected) == (from_status, to_status, False)


@pytest.mark.parametrize(("from_status", "to_status"), SKIPPED_STEPS)
def test_skipped_steps_are_applied_as_expected(from_status, to_status):
    order = order_in_status(from_status)

    outcome = apply_reported_status(order_id=order.pk, status=to_status)

    order.refresh_from_db()
    assert outcome == ReportOutcome.APPLIED
    assert order.status == to_status
    assert order.status_unexpected is False
    assert order.history.last().unexpected is False


@pytest.mark.parametrize(("from_status", "to_status"), OUTSIDE_GRAPH)
def test_move_outside_the_graph_is_applied_and_marked_unexpected(from_status, to_status):
    order = order_in_status(from_status)

    outcome = apply_reported_status(order_id=order.pk, status=to_status)

    order.refresh_from_db()
    assert outcome == ReportOutcome.UNEXPECTED
    assert order.status == to_status
    assert order.status_unexpected is True
    last = order.history.last()
    assert (last.from_status, last.to_status) == (from_status, to_status)
    assert last.unexpected is True
    assert last.message == "35up reported a move outside its graph."


def test_an_expected_report_clears_the_unexpected_mark():
    order = order_in_status("delivered")
    apply_reported_status(order_id=order.pk, status=S.APPROVED)

    apply_reported_status(order_id=order.pk, status=S.PROCESSING)

    order.refresh_from_db()
    assert order.status_unexpected is False


@pytest.mark.parametrize("to_status", [s for s in REPORTABLE if s != S.CLOSED])
def test_closed_is_never_left(to_status):
    order = order_in_status("closed")
    before = history(order)

    outcome = apply_reported_status(order_id=order.pk, status=to_status)

    order.refresh_from_db()
    assert outcome == ReportOutcome.CLOSED
    assert order.status == S.CLOSED
    assert history(order) == before


def test_closed_reported_again_on_a_closed_order_changes_nothing():
    order = order_in_status("closed")
    before = history(order)

    assert apply_reported_status(order_id=order.pk, status=S.CLOSED) == ReportOutcome.CLOSED
    assert history(order) == before


def test_report_older_than_the_last_applied_is_ignored():
    order = order_in_status("new")
    t0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    apply_reported_status(order_id=order.pk, status=S.PROCESSING, reported_at=t0)
    before = history(order)

    outcome = apply_reported_status(
        order_id=order.pk, status=S.APPROVED, reported_at=t0 - timedelta(seconds=1)
    )

    order.refresh_from_db()
    assert outcome == ReportOutcome.STALE
    assert order.status == S.PROCESSING
    assert order.thirtyfiveup_updated_at == t0
    assert history(order) == before


def test_newer_report_is_applied_and_remembered():
    order = order_in_status("new")
    t0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    apply_reported_status(order_id=order.pk, status=S.PENDING, reported_at=t0)

    outcome = apply_reported_status(
        order_id=order.pk, status=S.APPROVED, reported_at=t0 + timedelta(minutes=5)
    )

    order.refresh_from_db()
    assert outcome == ReportOutcome.APPLIED
    assert order.status == S.APPROVED
    assert order.thirtyfiveup_updated_at == t0 + timedelta(minutes=5)


def test_same_status_reported_again_is_unchanged_without_history():
    order = order_in_status("processing")
    before = history(order)
    later = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)

    outcome = apply_reported_status(order_id=order.pk, status=S.PROCESSING, reported_at=later)

    order.refresh_from_db()
    assert outcome == ReportOutcome.UNCHANGED
    assert history(order) == before
    assert order.thirtyfiveup_updated_at == later


@pytest.mark.parametrize("status", ["new", "shipped", "APPROVED"])
def test_report_of_a_status_35up_does_not_have_is_refused(status):
    order = order_in_status("pending")

    with pytest.raises(TransitionRefused) as refused:
        apply_reported_status(order_id=order.pk, status=status)

    assert refused.value.message == f"'{status}' is not a 35up order status."
    order.refresh_from_db()
    assert order.status == S.PENDING


def test_status_cannot_be_assigned_directly():
    order = OrderFactory()

    with pytest.raises(AttributeError, match="Direct status modification is not allowed"):
        order.status = S.APPROVED

    order.refresh_from_db()
    assert order.status == S.NEW


def test_transition_method_outside_its_source_raises():
    order = order_in_status("delivered")

    with pytest.raises(TransitionNotAllowed):
        order.approve()


def test_closed_order_cannot_take_a_reported_status_on_the_model():
    order = order_in_status("closed")

    with pytest.raises(TransitionNotAllowed):
        order.apply_reported_status(S.APPROVED)


def test_full_clean_leaves_the_protected_status_alone():
    order = order_in_status("approved")

    order.full_clean()

    assert order.status == S.APPROVED


def test_full_clean_reports_a_state_that_does_not_fit_the_country():
    order = OrderFactory.build(shipping_country="US", shipping_state="NSW")

    with pytest.raises(ValidationError) as error:
        order.full_clean(exclude=["reference"])

    assert error.value.message_dict["shipping_state"] == [
        "'NSW' is not an ISO 3166-2 subdivision of US "
        "(use the code without the country prefix, e.g. WA, QC, NSW)."
    ]


# History: who, what, when, from, to, why.


def test_staff_change_records_the_user(support_user):
    order = order_in_status("pending")

    request_transition(
        order_id=order.pk, action="approve", actor=Actor.staff(support_user), message="paid"
    )

    row = order.history.last()
    assert row.user == support_user
    assert row.actor_label == support_user.username
    assert row.source == "staff"
    assert (row.from_status, row.to_status, row.message) == ("pending", "approved", "paid")
    assert row.created_at is not None


def test_api_change_records_the_client_user(support_user):
    order = order_in_status("approved")

    request_transition(order_id=order.pk, action="hold", actor=Actor.api(support_user))

    row = order.history.last()
    assert (row.source, row.user, row.actor_label) == ("api", support_user, support_user.username)
    assert (row.from_status, row.to_status, row.message) == ("approved", "pending", "")


def test_provider_change_records_the_label_and_no_user():
    order = order_in_status("approved")

    apply_reported_status(order_id=order.pk, status=S.PROCESSING, message="35up: in production")

    row = order.history.last()
    assert (row.source, row.user, row.actor_label) == ("provider", None, "35up sync")
    assert (row.from_status, row.to_status, row.message) == (
        "approved",
        "processing",
        "35up: in production",
    )


def test_system_change_records_the_process_label():
    order = order_in_status("new")

    request_transition(
        order_id=order.pk,
        action="cancel",
        actor=Actor.system("import_orders"),
        message="Duplicate order.",
    )

    row = order.history.last()
    assert (row.source, row.user, row.actor_label) == ("system", None, "import_orders")
    assert (row.from_status, row.to_status, row.message) == ("new", "cancelled", "Duplicate order.")


def test_history_is_in_the_order_things_happened(support_user):
    order = order_in_status("pending")
    request_transition(order_id=order.pk, action="approve", actor=Actor.staff(support_user))
    apply_reported_status(order_id=order.pk, status=S.PROCESSING)
    request_transition(order_id=order.pk, action="cancel", actor=Actor.staff(support_user))

    assert history(order) == [
        ("new", "pending"),
        ("pending", "approved"),
        ("approved", "processing"),
        ("processing", "pending_cancellation"),
    ]
    times = [row.created_at for row in order.history.all()]
    assert times == sorted(times)


# Permissions.


@pytest.mark.parametrize(
    ("action", "from_status"), [("approve", "pending"), ("hold", "approved"), ("cancel", "new")]
)
def test_support_group_may_run_every_shop_action(action, from_status, support_user):
    order = order_in_status(from_status)

    request_transition(order_id=order.pk, action=action, actor=Actor.staff(support_user))

    order.refresh_from_db()
    assert order.status == SHOP_EDGES[(action, from_status)]


@pytest.mark.parametrize(
    ("action", "from_status"), [("approve", "pending"), ("hold", "approved"), ("cancel", "new")]
)
@pytest.mark.parametrize("door", [Actor.staff, Actor.api])
def test_staff_without_the_permission_is_refused(action, from_status, door):
    order = order_in_status(from_status)
    before = history(order)
    user = UserFactory(is_staff=True)

    with pytest.raises(PermissionRefused) as refused:
        request_transition(order_id=order.pk, action=action, actor=door(user))

    assert refused.value.message == f"You do not have permission to {action} orders."
    order.refresh_from_db()
    assert order.status == from_status
    assert history(order) == before


@pytest.mark.parametrize("actor", [Actor.provider(), Actor.system("seed_demo")])
def test_hub_processes_need_no_permission(actor):
    order = order_in_status("pending")

    request_transition(order_id=order.pk, action="approve", actor=actor)

    order.refresh_from_db()
    assert order.status == S.APPROVED


# Concurrency: the competing change lands between our load and our save.


def _with_stale_load(stale_order):
    """Make the service load `stale_order`, as if it had read the row before the rival saved."""
    return mock.patch.object(Order.objects, "get", return_value=stale_order)


@pytest.mark.parametrize("second_action", ["approve", "cancel"])
def test_concurrent_change_gives_a_conflict_and_one_history_row(second_action, support_user):
    order = order_in_status("pending")
    first_load = Order.objects.get(pk=order.pk)
    second_load = Order.objects.get(pk=order.pk)
    assert first_load.status == second_load.status == S.PENDING
    rival = UserFactory(groups=["support"])
    request_transition(order_id=order.pk, action="approve", actor=Actor.staff(rival))
    assert first_load.status == S.PENDING

    with _with_stale_load(second_load), pytest.raises(Conflict) as conflict:
        request_transition(order_id=order.pk, action=second_action, actor=Actor.staff(support_user))

    assert conflict.value.message == (
        f"Order {order.reference} was changed by someone else at the same moment "
        "(it is no longer pending); reload the order and try again."
    )
    order.refresh_from_db()
    assert order.status == S.APPROVED
    assert history(order) == [("new", "pending"), ("pending", "approved")]
    assert order.history.last().user == rival


def test_rival_acting_between_check_and_save_gives_a_conflict(support_user):
    """The rival goes through the real service at the moment our service checks the transition."""
    from orders import services

    order = order_in_status("approved")
    rival = UserFactory(groups=["support"])
    real_can_proceed = services.can_proceed
    rival_has_acted = []

    def rival_acts_first(transition_method, *args, **kwargs):
        if not rival_has_acted:
            rival_has_acted.append(True)
            request_transition(order_id=order.pk, action="hold", actor=Actor.staff(rival))
        return real_can_proceed(transition_method, *args, **kwargs)

    with (
        mock.patch.object(services, "can_proceed", side_effect=rival_acts_first),
        pytest.raises(Conflict),
    ):
        request_transition(order_id=order.pk, action="cancel", actor=Actor.staff(support_user))

    order.refresh_from_db()
    assert order.status == S.PENDING
    assert history(order) == [("new", "approved"), ("approved", "pending")]
