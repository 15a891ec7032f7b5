"""The two forms of "needs a person" agree: the query the index and lists count with, and the
property the order page's banner reads on rows it already has."""

import pytest
from django.utils import timezone

from outbox.models import NEEDS_A_PERSON, Delivery, DeliveryState
from tests.factories import DeliveryFactory

pytestmark = pytest.mark.django_db


def test_the_property_and_the_query_agree_on_every_state_settled_or_not():
    for state in DeliveryState.values:
        for settled_at in (None, timezone.now()):
            DeliveryFactory(state=state, settled_at=settled_at)
    by_query = set(Delivery.objects.filter(NEEDS_A_PERSON).values_list("pk", flat=True))
    by_property = {delivery.pk for delivery in Delivery.objects.all() if delivery.needs_a_person}

    assert by_property == by_query
    assert len(by_query) == 5  # dead and ambiguous either way, failed while not settled
