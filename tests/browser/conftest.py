"""Browser tests: Debian's Chromium, driven by Playwright's sync API, against pytest-django's
live server (a thread of this process sharing the test database), with the providers pointed at
the sandbox that the same live server serves. Deliveries are sent in-process between two clicks
(`deliver`), as the delivery loop of `make run` would: no worker is started.

Never a browser that Playwright downloads: the machine's `chromium` or a skip that says how to
install it. Each test leaves a screenshot of its last page under .artifacts/browser/.
"""

import os
import shutil
import time

import pytest
from django.utils import timezone
from playwright.sync_api import expect, sync_playwright

from core.actors import Actor
from core.groups import SUPPORT
from demo.scenario import demo_orders
from integrations.sync import sync_order
from orders.ingest import ingest_order
from outbox import services
from outbox.models import Delivery, DeliveryState
from sandbox import thirtyfiveup as sandbox_35up
from tests.factories import UserFactory

# A fixture of tests/outbox: every provider at the live server's sandbox, short timeouts.
from tests.outbox.conftest import providers_at_sandbox  # noqa: F401

CHROMIUM = shutil.which("chromium")
NO_CHROMIUM = "Chromium not found: apt-get install -y chromium"
# CI sets it: there the browser tests must run, not skip.
REQUIRED = os.environ.get("BROWSER_TESTS_REQUIRED") == "1"
SKIPPED_FOR_NO_CHROMIUM = pytest.StashKey[int]()
# A step waits this long for what it expects on the page; every step of these tests is local.
STEP_TIMEOUT_MS = 5_000
SUPPORT_USERNAME = "sam.support"
SUPPORT_PASSWORD = "secret-pass-123"  # tests.factories.UserFactory's
# How long `deliver` waits for a retry that is due soon (the test schedule is in ms).
RETRY_HORIZON_SECONDS = 1.0


def pytest_collection_modifyitems(config, items):
    if CHROMIUM:
        return
    if REQUIRED:
        raise pytest.UsageError(f"BROWSER_TESTS_REQUIRED=1 but {NO_CHROMIUM}")
    skip = pytest.mark.skip(reason=NO_CHROMIUM)
    for item in items:
        if item.get_closest_marker("browser"):
            item.add_marker(skip)
            config.stash[SKIPPED_FOR_NO_CHROMIUM] = config.stash.get(SKIPPED_FOR_NO_CHROMIUM, 0) + 1


def pytest_terminal_summary(terminalreporter, config):
    """Say why, at the end of any run (make test too), not only with -rs."""
    if skipped := config.stash.get(SKIPPED_FOR_NO_CHROMIUM, 0):
        terminalreporter.write_line(f"{skipped} browser tests skipped: {NO_CHROMIUM}", yellow=True)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session; closed, with Playwright's driver, whatever
    happens (a launch that fails stops the driver too)."""
    if not CHROMIUM:
        pytest.skip(NO_CHROMIUM)
    with pytest.MonkeyPatch.context() as patch:
        # Playwright's sync API keeps an asyncio loop in the main thread while it runs, where
        # Django would take every query of the tests for one made from async code and refuse it.
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        playwright = sync_playwright().start()
        try:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
            try:
                yield browser
            finally:
                browser.close()
        finally:
            playwright.stop()


@pytest.fixture
def page(chromium, live_server, request):
    """A fresh browser context (no cookies) on the live server; its last page is saved as
    .artifacts/browser/<module>--<test>.png, also when the test failed."""
    expect.set_options(timeout=STEP_TIMEOUT_MS)
    context = chromium.new_context(
        base_url=live_server.url, viewport={"width": 1280, "height": 900}
    )
    context.set_default_timeout(STEP_TIMEOUT_MS)
    try:
        page = context.new_page()
        yield page
        folder = request.config.rootpath / ".artifacts" / "browser"
        folder.mkdir(parents=True, exist_ok=True)
        name = f"{request.node.module.__name__.rsplit('.', 1)[-1]}--{request.node.name}.png"
        page.screenshot(path=folder / name, full_page=True)
    finally:
        context.close()


@pytest.fixture
def hub(providers_at_sandbox, settings):  # noqa: F811 (the fixture imported above)
    """Every provider at the sandbox with the shipped triggers; 35up's orders start pending.
    No test here makes a call time out, so the read timeout leaves room for a busy machine."""
    settings.SANDBOX_35UP_INITIAL_STATUS = "pending"
    settings.PROVIDER_READ_TIMEOUT = 10.0
    return providers_at_sandbox


@pytest.fixture
def support_user(staff_groups):
    """Staff in the real "support" group, with the permissions its data migrations grant."""
    return UserFactory(
        username=SUPPORT_USERNAME, first_name="Sam", last_name="Support", groups=[SUPPORT]
    )


@pytest.fixture
def support_page(page, support_user):
    """The page after support signed in through the login form."""
    sign_in(page, SUPPORT_USERNAME, SUPPORT_PASSWORD)
    return page


def sign_in(page, username, password):
    """Sign in through the admin's login form; the page then shows what `next` asked for."""
    if "/admin/login/" not in page.url:
        page.goto("/admin/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("button", name="Log out")).to_be_visible()


def demo_document(last_name):
    """The first demo order (demo/scenario.py) of the customer with this last name."""
    return next(
        demo_order.document
        for demo_order in demo_orders()
        if demo_order.document["customer"]["last_name"] == last_name
    )


def deliver():
    """What the delivery loop does between two clicks: send whatever is due, wait for a retry
    due within RETRY_HORIZON_SECONDS, until nothing more is. Deliveries held back behind a dead
    or ambiguous one stay queued, as they would."""
    while True:
        if services.drain():
            continue
        next_due = (
            Delivery.objects.filter(state=DeliveryState.QUEUED, next_attempt_at__gt=timezone.now())
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )
        if next_due is None:
            return
        wait = (next_due - timezone.now()).total_seconds()
        if wait > RETRY_HORIZON_SECONDS:
            return
        time.sleep(max(wait, 0.005))


def placed_order(last_name, *, path=()):
    """A demo customer's order, ingested, placed at the sandbox's 35up through the outbox (where
    it starts pending), moved there along `path` (35up statuses, one step each) and read back by
    the sync after each step; every delivery so far sent."""
    order = ingest_order(demo_document(last_name), actor=Actor.system("browser-test")).order
    deliver()
    order.refresh_from_db()
    assert order.thirtyfiveup_id, services.for_subject(order).values("state", "error")
    for status in path:
        sandbox_35up.advance_order(order.thirtyfiveup_id, status)
        sync_order(order)
        deliver()
    sync_order(order)
    order.refresh_from_db()
    assert order.status == (path[-1] if path else "pending"), order.status
    return order
