"""A shipment's quantities are summed per line: listing a 2-unit line twice ships at most 2."""

import pytest

from core.actors import Actor
from core.errors import ActionError
from orders.models import OrderLine, Shipment
from orders.services import add_shipment
from tests.factories import UserFactory, order_in_status

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff():
    return Actor.staff(UserFactory(groups=["support"]))


def two_unit_order():
    order = order_in_status("fulfilled")
    OrderLine.objects.filter(order=order).update(quantity=2)
    return order, order.lines.get()


def test_one_line_listed_twice_cannot_ship_more_than_was_ordered(staff):
    order, line = two_unit_order()

    with pytest.raises(ActionError) as refused:
        add_shipment(
            order_id=order.pk,
            tracking_number="PARCEL-1",
            lines=[(line.pk, 2), (line.pk, 2)],
            actor=staff,
        )

    assert refused.value.message == f"{line.sku}: 4 is more than the 2 not yet shipped."
    assert not Shipment.objects.exists()


def test_one_line_listed_twice_within_what_is_left_ships_the_sum_once(staff):
    order, line = two_unit_order()

    shipment = add_shipment(
        order_id=order.pk,
        tracking_number="PARCEL-1",
        lines=[(line.pk, 1), (line.pk, 1)],
        actor=staff,
    )

    assert list(shipment.lines.values_list("order_line_id", "quantity")) == [(line.pk, 2)]
    with pytest.raises(ActionError) as refused:
        add_shipment(
            order_id=order.pk, tracking_number="PARCEL-2", lines=[(line.pk, 1)], actor=staff
        )
    assert refused.value.message == f"{line.sku}: 1 is more than the 0 not yet shipped."
