"""Who may use the API: tokens or a session, nothing anonymous; api-read reads and never writes;
the permissions are the admin groups'; each client has its request budget."""

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.cache import caches
from django.core.management import CommandError, call_command
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from api.schema import INGEST_DOCUMENT
from orders.models import Order, OrderStatus
from returns.models import Return
from tests.api.conftest import client_for
from tests.factories import DeliveryFactory, UserFactory, order_in_status
from tests.returns.helpers import return_in_status, returnable_order

pytestmark = pytest.mark.django_db

READS = [
    "/api/v1/orders/",
    "/api/v1/orders/1/",
    "/api/v1/orders/by-reference/ORD-1/",
    "/api/v1/returns/",
    "/api/v1/returns/1/",
    "/api/v1/deliveries/",
    "/api/v1/deliveries/1/",
    "/api/v1/schema/?format=json",
]
WRITES = [
    ("/api/v1/orders/", INGEST_DOCUMENT),
    ("/api/v1/orders/1/transitions/", {"action": "approve"}),
    ("/api/v1/orders/1/shipments/", {"tracking_number": "1Z", "lines": []}),
    ("/api/v1/orders/1/returns/", {"reason": "x", "lines": []}),
    ("/api/v1/returns/1/status/", {"status": "cancelled"}),
]


@pytest.mark.parametrize("url", READS)
def test_anonymous_reads_are_refused_with_401(url):
    response = APIClient().get(url)
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"
    assert response["WWW-Authenticate"] == "Token"


def test_the_docs_page_sends_people_to_sign_in_first(client):
    response = client.get("/api/v1/docs/")
    assert response.status_code == 302
    assert response["Location"] == "/api/v1/auth/login/?next=/api/v1/docs/"
    sign_in = client.get(response["Location"])
    assert sign_in.status_code == 200
    UserFactory(username="reader", groups=["api-read"])
    signed_in = client.post(
        response["Location"], {"username": "reader", "password": "secret-pass-123"}
    )
    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/api/v1/docs/"
    page = client.get("/api/v1/docs/")
    assert page.status_code == 200
    # Swagger UI from this server, not from a CDN.
    assert b"/static/drf_spectacular_sidecar/swagger-ui-dist/" in page.content
    assert b"cdn" not in page.content.lower()


@pytest.mark.parametrize(("url", "body"), WRITES)
def test_anonymous_writes_are_refused_with_401(url, body):
    response = APIClient().post(url, body, format="json")
    assert response.status_code == 401
    assert Order.objects.count() == 0


def test_an_unknown_token_is_refused():
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION="Token 0123456789abcdef0123456789abcdef01234567")
    response = client.get("/api/v1/orders/")
    assert response.status_code == 401
    assert response.json() == {
        "code": "authentication_failed",
        "message": "Invalid token.",
        "field_errors": {},
    }


def test_an_inactive_users_token_is_refused():
    user = UserFactory()
    client = client_for(user)
    user.is_active = False
    user.save()
    assert client.get("/api/v1/orders/").status_code == 401


def test_a_session_works_for_the_browsable_api(client):
    client.force_login(UserFactory(groups=["support"]))
    response = client.get("/api/v1/orders/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert b"Order List" in response.content or b"Orders" in response.content


def test_a_session_write_needs_the_csrf_token():
    user = UserFactory(groups=["support"])
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(user)
    response = client.post("/api/v1/orders/", INGEST_DOCUMENT, format="json")
    assert response.status_code == 403
    assert "CSRF" in response.json()["message"]
    assert not Order.objects.exists()


def test_a_user_without_groups_reads_nothing():
    client = client_for(UserFactory())
    for url in ("/api/v1/orders/", "/api/v1/returns/", "/api/v1/deliveries/"):
        response = client.get(url)
        assert response.status_code == 403
        assert response.json()["code"] == "permission_denied"


def test_api_read_reads_orders_returns_and_deliveries(reader):
    order = order_in_status("pending")
    return_request = return_in_status("created")
    delivery = DeliveryFactory(subject=order)
    assert reader.get("/api/v1/orders/").json()["results"]
    assert reader.get(f"/api/v1/orders/{order.pk}/").status_code == 200
    assert reader.get(f"/api/v1/returns/{return_request.pk}/").status_code == 200
    assert reader.get(f"/api/v1/deliveries/{delivery.pk}/").status_code == 200
    assert reader.get("/api/v1/schema/").status_code == 200


def test_api_read_offers_no_actions_and_every_write_is_refused(reader):
    order = returnable_order()
    pending = order_in_status("pending")
    line = order.lines.get()
    return_request = return_in_status("awaiting_return", order=order)
    body = reader.get(f"/api/v1/orders/{pending.pk}/").json()
    assert body["actions"] == []
    assert reader.get(f"/api/v1/returns/{return_request.pk}/").json()["statuses_allowed"] == []

    answers = [
        reader.post("/api/v1/orders/", INGEST_DOCUMENT, format="json"),
        reader.post(f"/api/v1/orders/{pending.pk}/transitions/", {"action": "approve"}),
        reader.post(
            f"/api/v1/orders/{order.pk}/shipments/",
            {"tracking_number": "1Z1", "lines": [{"line_id": line.pk, "quantity": 1}]},
            format="json",
        ),
        reader.post(
            f"/api/v1/orders/{order.pk}/returns/",
            {"reason": "Too small", "lines": [{"line_id": line.pk, "quantity": 1}]},
            format="json",
        ),
        reader.post(f"/api/v1/returns/{return_request.pk}/status/", {"status": "cancelled"}),
    ]
    assert [answer.status_code for answer in answers] == [403] * 5
    assert {answer.json()["code"] for answer in answers} == {"permission_denied"}
    pending.refresh_from_db()
    assert pending.status == OrderStatus.PENDING
    assert not Order.objects.filter(reference=INGEST_DOCUMENT["reference"]).exists()
    assert Return.objects.count() == 1
    assert not order.shipments.exists()


def test_the_group_exists_with_view_permissions_only():
    codenames = set(
        Group.objects.get(name="api-read").permissions.values_list("codename", flat=True)
    )
    assert {"view_order", "view_return", "view_delivery", "view_orderstatuschange"} <= codenames
    assert all(codename.startswith("view_") for codename in codenames)


def test_a_user_with_view_permission_only_may_not_approve():
    user = UserFactory()
    user.user_permissions.add(*Permission.objects.filter(codename="view_order"))
    order = order_in_status("pending")
    client = client_for(user)
    assert client.get(f"/api/v1/orders/{order.pk}/").status_code == 200
    response = client.post(f"/api/v1/orders/{order.pk}/transitions/", {"action": "approve"})
    assert response.status_code == 403
    assert response.json()["message"] == "You do not have permission to approve orders."


def test_create_api_token_prints_the_users_token(capsys):
    user = UserFactory(username="erp")
    call_command("create_api_token", "erp")
    key = capsys.readouterr().out.strip()
    assert key == Token.objects.get(user=user).key
    call_command("create_api_token", "erp")
    assert capsys.readouterr().out.strip() == key
    call_command("create_api_token", "erp", "--rotate")
    rotated = capsys.readouterr().out.strip()
    assert rotated != key
    assert not Token.objects.filter(key=key).exists()


def test_create_api_token_refuses_unknown_and_inactive_users():
    with pytest.raises(CommandError, match="No user 'ghost'"):
        call_command("create_api_token", "ghost")
    UserFactory(username="gone", is_active=False)
    with pytest.raises(CommandError, match="inactive"):
        call_command("create_api_token", "gone")


def test_each_client_is_throttled_on_its_own_with_retry_after(settings, support_user):
    caches["api"].clear()
    settings.API_THROTTLE_RATE = "3/minute"
    first, second = client_for(support_user), client_for(UserFactory(groups=["support"]))
    assert [first.get("/api/v1/orders/").status_code for _ in range(3)] == [200] * 3
    refused = first.get("/api/v1/orders/")
    assert refused.status_code == 429
    assert refused.json()["code"] == "throttled"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert second.get("/api/v1/orders/").status_code == 200
    caches["api"].clear()
