"""Who may use the sandbox: its control endpoints only the install's owner (a staff session held
to the CSRF check, or the per-install token in a header), its fake providers only callers with
the configured provider credentials. Every URL of sandbox/urls.py is covered, so a new one
without a check fails here."""

import pytest
from django.test import Client
from django.urls import reverse

from sandbox import urls as sandbox_urls
from sandbox.endpoints import CONTROL_TOKEN_HEADER
from sandbox.models import SandboxFaults, SandboxOrder
from tests.factories import UserFactory

from .test_thirtyfiveup_orders import order_body, place

pytestmark = pytest.mark.django_db

METHODS = ("GET", "POST", "PATCH", "DELETE")
FAULTS_CHANGE = '{"error_rate": 1.0}'


def url_of(pattern):
    """The pattern's URL with a made-up value for each id in it."""
    kwargs = {name: "0000TEST" for name in pattern.pattern.regex.groupindex}
    return reverse(f"sandbox:{pattern.name}", kwargs=kwargs)


CONTROL_URLS = [url_of(p) for p in sandbox_urls.urlpatterns if p.name.startswith("control-")]
PROVIDER_URLS = [url_of(p) for p in sandbox_urls.urlpatterns if not p.name.startswith("control-")]


def test_every_sandbox_url_is_either_a_control_or_a_provider_endpoint():
    assert len(CONTROL_URLS) == 4
    assert len(PROVIDER_URLS) == len(sandbox_urls.urlpatterns) - 4
    assert all(url.startswith("/sandbox/_control/") for url in CONTROL_URLS)
    assert not any("_control" in url for url in PROVIDER_URLS)


def send(client, method, url, body="", **headers):
    return client.generic(method, url, data=body, content_type="application/json", headers=headers)


@pytest.fixture
def staff_client():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(is_staff=True))
    return client


def csrf_token_of(client):
    """The CSRF cookie a staff member's browser gets from any admin form."""
    assert client.get(reverse("admin:password_change")).status_code == 200
    return client.cookies["csrftoken"].value


# --- control endpoints ------------------------------------------------------------------------


@pytest.mark.parametrize("url", CONTROL_URLS)
@pytest.mark.parametrize("method", METHODS)
def test_anonymous_callers_cannot_use_any_control_endpoint(url, method):
    response = send(Client(), method, url, FAULTS_CHANGE)

    assert response.status_code == 403
    assert CONTROL_TOKEN_HEADER in response.json()["error"]
    assert SandboxFaults.load().error_rate == 0


@pytest.mark.parametrize("url", CONTROL_URLS)
@pytest.mark.parametrize("method", METHODS)
def test_signed_in_users_who_are_not_staff_cannot_use_any_control_endpoint(url, method):
    client = Client()
    client.force_login(UserFactory(is_staff=False))

    assert send(client, method, url, FAULTS_CHANGE).status_code == 403
    assert SandboxFaults.load().error_rate == 0


def test_an_anonymous_caller_cannot_cancel_a_fake_35up_order(thirtyfiveup, settings):
    """The probe: advancing a fake order to cancelled would cancel the hub's order at its next
    sync. A stranger can no longer advance anything."""
    order_id = place(thirtyfiveup)["id"]

    response = send(
        Client(),
        "POST",
        f"/sandbox/_control/35up/orders/{order_id}/advance",
        '{"status": "cancelled"}',
    )

    assert response.status_code == 403
    assert SandboxOrder.objects.get(public_id=order_id).status == "pending"


def test_a_plain_text_post_from_a_foreign_origin_is_refused_even_for_a_staff_session(
    staff_client,
):
    """What a foreign web page can make a signed-in staff member's browser send."""
    response = staff_client.post(
        "/sandbox/_control/faults",
        data=FAULTS_CHANGE,
        content_type="text/plain",
        headers={"Origin": "https://attacker.example"},
    )

    assert response.status_code == 403
    assert SandboxFaults.load().error_rate == 0


@pytest.mark.parametrize("url", CONTROL_URLS)
def test_a_staff_session_without_the_csrf_token_cannot_change_anything(staff_client, url):
    for method in ("POST", "DELETE"):
        assert send(staff_client, method, url, FAULTS_CHANGE).status_code == 403
    assert SandboxFaults.load().error_rate == 0


def test_a_foreign_origin_is_refused_even_with_the_csrf_token(staff_client):
    """The token alone is not enough: the request must also come from the hub's own origin."""
    token = csrf_token_of(staff_client)

    response = send(
        staff_client,
        "POST",
        "/sandbox/_control/faults",
        FAULTS_CHANGE,
        X_CSRFToken=token,
        Origin="https://attacker.example",
    )

    assert response.status_code == 403
    assert SandboxFaults.load().error_rate == 0


def test_a_staff_session_with_the_csrf_token_drives_the_sandbox(staff_client, thirtyfiveup):
    token = csrf_token_of(staff_client)
    order_id = place(thirtyfiveup)["id"]

    faults = send(
        staff_client, "POST", "/sandbox/_control/faults", FAULTS_CHANGE, X_CSRFToken=token
    )
    advanced = send(
        staff_client,
        "POST",
        f"/sandbox/_control/35up/orders/{order_id}/advance",
        X_CSRFToken=token,
    )

    assert faults.status_code == 200
    assert SandboxFaults.load().error_rate == 1.0
    assert advanced.status_code == 200
    assert advanced.json()["status"] == "approved"


def test_a_staff_session_reads_the_faults_without_a_csrf_token(staff_client):
    response = staff_client.get("/sandbox/_control/faults")

    assert response.status_code == 200
    assert response.json()["error_rate"] == 0


def test_the_install_token_in_the_header_opens_the_control_endpoints(settings):
    headers = {CONTROL_TOKEN_HEADER: settings.SANDBOX_CONTROL_TOKEN}

    response = send(
        Client(enforce_csrf_checks=True),
        "POST",
        "/sandbox/_control/faults",
        FAULTS_CHANGE,
        **headers,
    )

    assert response.status_code == 200
    assert SandboxFaults.load().error_rate == 1.0


@pytest.mark.parametrize("token", ["", "wrong", "sandbox-control-test-toke"])
def test_a_wrong_token_is_refused_even_with_a_staff_session(staff_client, token):
    token_header = {CONTROL_TOKEN_HEADER: token}

    response = staff_client.get("/sandbox/_control/faults", headers=token_header)

    assert response.status_code == 403


def test_an_unconfigured_token_opens_nothing(settings):
    settings.SANDBOX_CONTROL_TOKEN = ""

    response = send(Client(), "GET", "/sandbox/_control/faults", **{CONTROL_TOKEN_HEADER: ""})

    assert response.status_code == 403


# --- provider endpoints -----------------------------------------------------------------------


@pytest.mark.parametrize("url", PROVIDER_URLS)
def test_provider_endpoints_refuse_callers_without_provider_credentials(url, staff_client):
    """Anonymous callers and staff sessions alike: only the provider's credentials count.
    A method the endpoint does not serve is answered 405 before the credentials are looked at."""
    for client in (Client(), staff_client):
        statuses = {method: send(client, method, url, "{}").status_code for method in METHODS}

        assert set(statuses.values()) <= {401, 405}, statuses
        assert 401 in statuses.values(), statuses


def test_without_credentials_no_customer_data_comes_back(thirtyfiveup):
    order_id = place(thirtyfiveup)["id"]
    customer = order_body()["customer"]

    for url in ("/sandbox/35up/v1/orders", f"/sandbox/35up/v1/orders/{order_id}"):
        response = Client().get(url)

        assert response.status_code == 401
        assert customer["email"] not in response.content.decode()
        assert customer["lastName"] not in response.content.decode()
