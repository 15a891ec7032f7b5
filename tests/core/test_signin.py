"""Sign-in throttling (django-axes with core.signin): repeated failures lock a username at an
address, the lockout page says when to try again, failures are logged, unlock_login reopens."""

import logging
from datetime import timedelta
from io import StringIO

import pytest
from axes.models import AccessAttempt
from django.core.management import call_command
from django.test import RequestFactory
from django.urls import reverse

from core.signin import client_address, unlock
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("admin:login")
INDEX_URL = reverse("admin:index")
RIGHT = "secret-pass-123"  # tests.factories.UserFactory's password
WRONG = "not-the-password-42"


@pytest.fixture
def staff():
    return UserFactory(username="alice")


def sign_in(client, password, username="alice", address="203.0.113.7"):
    return client.post(
        LOGIN_URL,
        {"username": username, "password": password, "next": INDEX_URL},
        REMOTE_ADDR=address,
    )


def signed_in(response):
    return response.status_code == 302 and response.url == INDEX_URL


def test_the_right_password_signs_in(client, staff):
    assert signed_in(sign_in(client, RIGHT))


def test_five_failures_lock_and_then_the_right_password_is_refused(client, staff, settings):
    assert settings.AXES_FAILURE_LIMIT == 5
    answers = [sign_in(client, WRONG) for _ in range(5)]

    # Four ordinary refusals (the form again), then the lockout.
    assert [answer.status_code for answer in answers] == [200, 200, 200, 200, 429]
    right = sign_in(client, RIGHT)
    assert right.status_code == 429
    assert "_auth_user_id" not in client.session
    page = right.content.decode()
    assert "Sign-in locked" in page
    assert "Try again after" in page
    assert "(in 15 minutes)" in page


def test_thirty_failures_never_let_the_thirty_first_right_one_in(client, staff):
    for _ in range(30):
        sign_in(client, WRONG)

    assert sign_in(client, RIGHT).status_code == 429


def test_attempts_during_the_lock_neither_extend_it_nor_grow_its_record(client, staff, caplog):
    for _ in range(5):
        sign_in(client, WRONG)
    attempt = AccessAttempt.objects.get(username="alice")
    first_page = sign_in(client, WRONG).content.decode()

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="core.signin"):
        for _ in range(20):
            assert sign_in(client, WRONG).status_code == 429

    # Each refusal is still logged.
    refusals = [r for r in caplog.records if r.getMessage().startswith("Sign-in refused, locked")]
    assert len(refusals) == 20
    again = AccessAttempt.objects.get(username="alice")
    assert (again.failures_since_start, again.attempt_time) == (5, attempt.attempt_time)
    assert len(again.post_data) == len(attempt.post_data)
    retry_at = f"{attempt.attempt_time + timedelta(minutes=15):%Y-%m-%d %H:%M} UTC"
    assert retry_at in first_page
    assert retry_at in sign_in(client, RIGHT).content.decode()


def test_the_lock_is_per_username_and_address(client, staff):
    for _ in range(5):
        sign_in(client, WRONG)

    # The same person from another address, and another person from the same address, sign in.
    assert signed_in(sign_in(client, RIGHT, address="198.51.100.20"))
    client.logout()
    UserFactory(username="bob")
    assert signed_in(sign_in(client, RIGHT, username="bob"))


def test_a_success_before_the_limit_starts_the_count_again(client, staff):
    for _ in range(4):
        sign_in(client, WRONG)
    assert signed_in(sign_in(client, RIGHT))
    client.logout()

    for _ in range(4):
        sign_in(client, WRONG)
    assert signed_in(sign_in(client, RIGHT))


def test_unlock_login_reopens_a_locked_username(client, staff):
    for _ in range(5):
        sign_in(client, WRONG)
    assert sign_in(client, RIGHT).status_code == 429

    out = StringIO()
    call_command("unlock_login", "alice", stdout=out)

    assert "Unlocked 'alice'" in out.getvalue()
    assert signed_in(sign_in(client, RIGHT))


def test_unlock_login_says_when_there_is_nothing_to_unlock(staff):
    out = StringIO()
    call_command("unlock_login", "alice", stdout=out)

    assert "nothing to unlock" in out.getvalue()


def test_unlock_needs_a_username_and_never_unlocks_everyone(client, staff):
    for _ in range(5):
        sign_in(client, WRONG)

    with pytest.raises(ValueError, match="username"):
        unlock(username="")
    assert sign_in(client, RIGHT).status_code == 429


def test_a_failure_is_logged_with_username_and_address_never_the_password(client, staff, caplog):
    with caplog.at_level(logging.INFO):
        sign_in(client, WRONG)

    lines = [record.getMessage() for record in caplog.records]
    assert "Sign-in failed: username='alice' address=203.0.113.7" in lines
    assert not any(WRONG in line for line in lines)


def test_a_lockout_is_logged(client, staff, caplog):
    with caplog.at_level(logging.WARNING, logger="core.signin"):
        for _ in range(5):
            sign_in(client, WRONG)

    assert any(
        record.getMessage().startswith("Sign-in locked after 5 failures: username='alice'")
        and "address=203.0.113.7" in record.getMessage()
        for record in caplog.records
    )


def test_the_limit_and_cool_off_come_from_the_settings(client, staff, settings, caplog):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = settings.AXES_COOLOFF_TIME * 2
    caplog.set_level(logging.WARNING, logger="core.signin")

    sign_in(client, WRONG)
    locked = sign_in(client, WRONG)

    assert locked.status_code == 429
    assert "(in 30 minutes)" in locked.content.decode()
    assert "for 30 minutes" in caplog.text


def test_a_garbled_forwarded_address_never_breaks_the_sign_in(client, staff, settings):
    settings.LOGIN_TRUSTED_PROXIES = 1

    response = client.post(
        LOGIN_URL,
        {"username": "alice", "password": WRONG, "next": INDEX_URL},
        REMOTE_ADDR="10.0.0.2",
        HTTP_X_FORWARDED_FOR="<script>, x" * 3,
    )

    assert response.status_code == 200


@pytest.mark.parametrize(
    ("proxies", "forwarded", "expected"),
    [
        (0, "198.51.100.1", "10.0.0.2"),
        (1, "198.51.100.1", "198.51.100.1"),
        # A client's own X-Forwarded-For entries are left of what the trusted proxy appended.
        (1, "6.6.6.6, 198.51.100.1", "198.51.100.1"),
        (2, "6.6.6.6, 198.51.100.1, 10.0.0.9", "198.51.100.1"),
        # Fewer entries than trusted proxies: the header did not pass them all.
        (2, "198.51.100.1", "10.0.0.2"),
        # Not an address: the peer's is used (axes keeps addresses in an IP field).
        (1, "not-an-address", "10.0.0.2"),
        (1, "2001:db8::1", "2001:db8::1"),
    ],
)
def test_the_client_address_behind_trusted_proxies(settings, proxies, forwarded, expected):
    settings.LOGIN_TRUSTED_PROXIES = proxies
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.2", HTTP_X_FORWARDED_FOR=forwarded)

    assert client_address(request) == expected
