"""Dead and ambiguous deliveries as staff meet them: counted on the admin index, listed, shown
with the stored request (Authorization redacted), retried, and the retry succeeds."""

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from core.actors import Actor
from integrations.operations import PLACE_ORDER
from orders.ingest import ingest_order
from outbox import services
from outbox.models import Delivery, DeliveryState
from sandbox import faults
from sandbox.models import SandboxOrder
from tests.factories import UserFactory
from tests.outbox.test_fault_soak import document

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("staff_groups")]


@pytest.fixture
def support_client(client):
    client.force_login(UserFactory(groups=["support"]))
    return client


def test_dead_and_ambiguous_deliveries_are_shown_retried_and_then_succeed(
    providers_at_sandbox, settings, support_client
):
    settings.OUTBOX_RETRY_SCHEDULE = [0, 0]
    settings.TRIGGER_SHIPUP = False
    dead_order = ingest_order(document(1), actor=Actor.system("test")).order
    ambiguous_order = ingest_order(document(2), actor=Actor.system("test")).order
    dead = services.for_subject(dead_order).get()
    ambiguous = services.for_subject(ambiguous_order).get()
    # 35up is down for the first order's two attempts; the second order's POST is taken and
    # its answer lost (the drop fault), so 35up has it while the hub does not know.
    faults.configure_faults(
        queue=[
            {"provider": "35up", "method": "POST", "fault": fault}
            for fault in ("503", "drop", "503")
        ],
        timeout_seconds=1.0,
    )
    for _ in range(3):
        services.send_due()
    dead.refresh_from_db()
    ambiguous.refresh_from_db()
    assert (dead.state, dead.attempts) == (DeliveryState.DEAD, 2)
    assert ambiguous.state == DeliveryState.AMBIGUOUS

    index = support_client.get(reverse("admin:index")).content.decode()
    assert "Needs a person" in index
    assert 'situation=dead">Deliveries: Dead (out of attempts)</a></th>' in index
    assert 'situation=ambiguous">Deliveries: Ambiguous (sent, answer lost)</a></th>' in index
    listing = support_client.get(
        reverse("admin:outbox_delivery_changelist") + "?state__exact=ambiguous"
    ).content.decode()
    assert ambiguous_order.reference in listing and dead_order.reference not in listing
    detail = support_client.get(
        reverse("admin:outbox_delivery_change", args=[dead.pk])
    ).content.decode()
    assert "503" in detail
    assert "Authorization&quot;: &quot;***&quot;" in detail
    assert settings.THIRTYFIVEUP_PASSWORD not in detail
    assert "Basic " not in detail

    response = support_client.post(
        reverse("admin:outbox_delivery_changelist"),
        {"action": "retry_now", "_selected_action": [dead.pk, ambiguous.pk]},
        follow=True,
    )
    messages = [str(message) for message in response.context["messages"]]
    assert f"Delivery #{dead.pk}: queued again." in messages
    assert f"Delivery #{ambiguous.pk}: queued again." in messages
    services.drain()

    dead.refresh_from_db()
    ambiguous.refresh_from_db()
    assert dead.state == ambiguous.state == DeliveryState.SUCCEEDED
    # The retried ambiguous POST looked first and found the order: 35up holds it once.
    assert "by reference" in ambiguous.error
    assert SandboxOrder.objects.filter(reference=ambiguous_order.reference).count() == 1
    assert SandboxOrder.objects.filter(reference=dead_order.reference).count() == 1


def test_a_user_without_the_retry_permission_cannot_retry(client):
    viewer = UserFactory(username="viewer")
    viewer.user_permissions.add(Permission.objects.get(codename="view_delivery"))
    client.force_login(viewer)
    order = ingest_order(document(3), actor=Actor.system("test")).order
    delivery = services.for_subject(order).filter(operation=PLACE_ORDER).first()
    Delivery.objects.filter(pk=delivery.pk).update(state=DeliveryState.DEAD)

    page = client.get(reverse("admin:outbox_delivery_changelist"))
    assert page.status_code == 200
    assert "retry_now" not in page.content.decode()
    forged = client.post(
        reverse("admin:outbox_delivery_changelist"),
        {"action": "retry_now", "_selected_action": [delivery.pk]},
    )
    assert forged.status_code in (200, 302)
    delivery.refresh_from_db()
    assert delivery.state == DeliveryState.DEAD
