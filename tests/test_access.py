"""Every URL the hub serves, walked from the URL configuration itself: nobody anonymous gets past
sign-in (health checks and the sign-in pages aside), and no signed-in session changes anything
without its CSRF token. A URL added later is covered by these tests without being listed here."""

import re

import pytest
from django.contrib.admindocs.views import extract_views_from_urlpatterns, simplify_regex
from django.test import Client
from django.urls import get_resolver

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Open on purpose: load balancers' probes, and the pages where people sign in or out.
PUBLIC = {"/healthz", "/readyz", "/admin/login/", "/admin/logout/"}
PUBLIC_PREFIXES = ("/api/v1/auth/",)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")


def served_urls():
    """Each URL pattern with a made-up value for every parameter, catch-alls included."""
    urls = set()
    for _view, regex, _namespace, _name in extract_views_from_urlpatterns(
        get_resolver().url_patterns
    ):
        url = simplify_regex(regex)
        url = re.sub(r"<format>", "json", url.replace("\\.", "."))
        url = re.sub(r"<(?:\w+:)?(\w+)>", "1", url)
        urls.add(url.replace("/api/.", "/api/v1/unknown/"))
    return sorted(urls)


URLS = served_urls()
GUARDED = [url for url in URLS if url not in PUBLIC and not url.startswith(PUBLIC_PREFIXES)]


def test_the_walk_finds_every_door():
    prefixes = {url.split("/")[1] for url in GUARDED}
    assert prefixes == {"admin", "api", "sandbox"}
    assert len([url for url in GUARDED if url.startswith("/admin/")]) > 50
    assert "/api/v1/orders/1/transitions/" in GUARDED
    assert "/sandbox/_control/reset/" in GUARDED


def refused(url, response):
    """What refusing an anonymous caller looks like at each door."""
    if url.startswith("/admin/"):
        return response.status_code == 302 and response["Location"].startswith("/admin/login/")
    if url.startswith("/api/"):
        # The docs page, made for people, sends them to sign in; an unknown API path answers 404
        # to everybody: it reveals nothing.
        return (
            response.status_code in (401, 403)
            or (url == "/api/v1/unknown/" and response.status_code == 404)
            or (
                response.status_code == 302
                and response["Location"].startswith("/api/v1/auth/login/")
            )
        )
    # The sandbox: control endpoints want staff or the install's token, the fake providers
    # their provider credentials (a method a fake provider does not serve is 405 before that).
    return response.status_code in (401, 403, 405)


@pytest.mark.parametrize("method", METHODS)
def test_anonymous_callers_are_refused_everywhere_but_health_and_sign_in(method):
    client = Client()
    let_through = {}
    for url in GUARDED:
        response = client.generic(method, url, data="{}", content_type="application/json")
        if not refused(url, response):
            let_through[url] = response.status_code
    assert let_through == {}


def test_signed_in_sessions_change_nothing_without_their_csrf_token():
    client = Client(enforce_csrf_checks=True)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    let_through = {}
    # The fake providers take machine credentials, not sessions; their control endpoints are
    # held to CSRF by tests/sandbox/test_access.py.
    for url in [url for url in URLS if not url.startswith("/sandbox/")] + ["/admin/login/"]:
        if url == "/api/v1/unknown/":
            continue
        response = client.post(url, data={"confirm": "yes"})
        if response.status_code != 403:
            let_through[url] = response.status_code
    assert let_through == {}
