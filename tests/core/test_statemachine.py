"""The report rules both 35up state machines share."""

from core.statemachine import is_reachable
from orders.models import REPORTED_MOVES


def test_skipped_steps_are_reachable():
    assert is_reachable(REPORTED_MOVES, "approved", "delivered")
    assert is_reachable(REPORTED_MOVES, "pending", "closed")


def test_moves_backwards_out_of_the_graph_are_not():
    assert not is_reachable(REPORTED_MOVES, "delivered", "approved")
    assert not is_reachable(REPORTED_MOVES, "closed", "pending")
    assert not is_reachable(REPORTED_MOVES, "cancelled", "approved")


def test_an_unknown_status_reaches_nothing():
    assert not is_reachable(REPORTED_MOVES, "teleported", "closed")
