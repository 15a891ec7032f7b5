"""A support person's day at the order hub, in a real browser: sign in, find an order by the
customer's name, approve it with a reason and watch the history and the providers panel change,
retry a delivery that ran out of attempts, request a return, cancel with a reason where 35up
refuses and acknowledge what the index raised, and find the user admin closed."""

import re

import pytest
from playwright.sync_api import expect

from orders.models import Order
from outbox.models import Delivery, DeliveryState
from returns.models import Return
from sandbox import faults
from sandbox import thirtyfiveup as sandbox_35up
from tests.browser.conftest import (
    SUPPORT_PASSWORD,
    SUPPORT_USERNAME,
    deliver,
    placed_order,
    sign_in,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

INDEX_TITLE = "Orders, returns and provider deliveries"


def order_page(page, order):
    page.goto(f"/admin/orders/order/{order.pk}/change/")
    expect(page.get_by_role("heading", name=order.reference, exact=True)).to_be_visible()


def sync_box(page, label):
    """One provider's box of the order page's providers panel."""
    return page.locator("#provider-sync section").filter(
        has=page.get_by_role("heading", name=label, exact=True)
    )


def sync_value(page, label, term):
    """What one provider's box says for `term` ("Pending", "Last success (UTC)")."""
    return (
        sync_box(page, label).locator("dt", has_text=term).locator("xpath=following-sibling::dd[1]")
    )


def search_orders(page, term):
    page.locator("#searchbar").fill(term)
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#searchbar")).to_have_value(term)


def test_support_signs_in_and_finds_an_order_by_the_customers_name(page, hub, support_user):
    hugo = placed_order("Lefèvre")
    daan = placed_order("de Vries")
    placed_order("Carter")

    page.goto("/admin/")
    expect(page).to_have_url(re.compile(r"/admin/login/"))
    sign_in(page, SUPPORT_USERNAME, SUPPORT_PASSWORD)
    expect(page.get_by_role("heading", name=INDEX_TITLE)).to_be_visible()

    page.locator("tr.model-order").get_by_role("link", name="Orders").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(3)

    # Typed as staff type it: any case, without the accent, first and last name.
    search_orders(page, "hugo lefevre")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("Hugo Lefèvre")
    search_orders(page, "de Vries")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(daan.reference)
    # A part of the reference, as read out on the phone.
    search_orders(page, hugo.reference.removeprefix("DEMO-"))
    hugos_row = rows.filter(has_text=hugo.reference)
    expect(hugos_row).to_contain_text("Hugo Lefèvre")
    hugos_row.get_by_role("link", name=hugo.reference).click()
    expect(page.get_by_role("heading", name=hugo.reference, exact=True)).to_be_visible()


def test_support_approves_with_a_reason_and_sees_history_and_providers_change(support_page, hub):
    page = support_page
    order = placed_order("de Vries")
    order_page(page, order)
    expect(sync_value(page, "Sendcloud", "Last success")).to_have_text("never")

    page.get_by_role("link", name="Approve", exact=True).click()
    page.get_by_label("Message").fill("Paid by bank transfer, checked with the customer.")
    page.get_by_role("button", name=f"Yes, approve order {order.reference}").click()

    expect(page.locator(".messagelist")).to_contain_text(
        f"Order {order.reference}: Pending -> Approved."
    )
    history = page.locator("#status-history")
    approval = history.locator("tr").filter(has_text="Pending → Approved")
    expect(approval).to_contain_text(SUPPORT_USERNAME)
    expect(approval).to_contain_text("Paid by bank transfer, checked with the customer.")
    expect(sync_value(page, "Sendcloud", "Pending")).to_have_text("1")

    deliver()
    page.reload()
    expect(sync_value(page, "Sendcloud", "Pending")).to_have_text("0")
    expect(sync_value(page, "Sendcloud", "Last success")).not_to_have_text("never")
    expect(sync_value(page, "Sendcloud", "Id at Sendcloud")).not_to_have_text("-")
    expect(history.locator("tr").filter(has_text="Sendcloud").first).to_contain_text("Succeeded")
    assert Order.objects.get(pk=order.pk).status == "approved"


def test_support_retries_a_delivery_that_ran_out_of_attempts(support_page, hub, settings):
    page = support_page
    # Sendcloud answers its next call with a server error, and the schedule leaves no retry.
    settings.OUTBOX_RETRY_SCHEDULE = []
    faults.configure_faults(queue=[{"provider": "sendcloud", "fault": "500"}])
    order = placed_order("Schneider", path=["approved"])
    dead = Delivery.objects.get(provider="sendcloud", state=DeliveryState.DEAD)

    page.goto("/admin/")
    page.get_by_role("link", name=re.compile(r"Dead \(out of attempts\)")).click()
    row = page.locator("#result_list tbody tr").filter(has_text=order.reference)
    expect(row).to_contain_text("Dead (out of attempts)")
    row.get_by_role("checkbox").check()
    page.get_by_role("combobox", name="Action").select_option(label="Retry selected deliveries now")
    page.get_by_role("button", name="Go", exact=True).click()
    expect(page.locator(".messagelist")).to_contain_text(f"Delivery #{dead.pk}: queued again.")

    deliver()
    order_page(page, order)
    expect(sync_value(page, "Sendcloud", "Pending")).to_have_text("0")
    expect(sync_value(page, "Sendcloud", "Last success")).not_to_have_text("never")
    entry = page.locator("#status-history tr").filter(has_text=f"Delivery #{dead.pk}")
    expect(entry).to_contain_text("Succeeded")
    expect(entry).to_contain_text("2 attempts")


def test_support_requests_a_return_of_a_delivered_order(support_page, hub):
    page = support_page
    order = placed_order("Becker", path=["approved", "processing", "fulfilled", "delivered"])
    line = order.lines.order_by("id").first()

    order_page(page, order)
    page.get_by_role("link", name="Request a return").click()
    page.locator("tr.return-request-line").filter(has_text=line.sku).get_by_role("spinbutton").fill(
        "1"
    )
    page.get_by_label("Reason").fill("Arrived scratched; the customer sent photos.")
    page.get_by_role("button", name="Request return").click()

    return_request = Return.objects.get(order=order)
    expect(page.locator(".messagelist")).to_contain_text(
        f"Return #{return_request.pk} of order {order.reference} requested"
    )
    deliver()
    page.reload()
    return_request.refresh_from_db()
    assert return_request.thirtyfiveup_id
    expect(page.get_by_text(return_request.thirtyfiveup_id)).to_be_visible()

    order_page(page, order)
    listed = page.locator("#order-returns tr.order-return")
    expect(listed).to_have_count(1)
    expect(listed).to_contain_text(f"#{return_request.pk} (35up {return_request.thirtyfiveup_id})")
    expect(listed).to_contain_text(f"1 x {line.sku}")


def test_support_cannot_open_the_user_admin(support_page):
    page = support_page
    page.goto("/admin/")
    expect(page.get_by_role("link", name="Users")).to_have_count(0)

    response = page.goto("/admin/auth/user/")
    assert response.status == 403
    expect(page.get_by_role("heading", name="You are not allowed to do this")).to_be_visible()
    expect(page.locator("#result_list")).to_have_count(0)
    expect(page.get_by_text(SUPPORT_USERNAME, exact=True)).to_have_count(0)


def test_support_sees_a_refused_cancel_on_the_index_and_acknowledges_it(support_page, hub):
    page = support_page
    order = placed_order("Dubois", path=["approved"])
    # 35up has shipped it meanwhile; the hub hears of that with the next sync, not yet.
    sandbox_35up.advance_order(order.thirtyfiveup_id, "processing")
    sandbox_35up.advance_order(order.thirtyfiveup_id, "fulfilled")

    order_page(page, order)
    page.get_by_role("link", name="Cancel", exact=True).click()
    page.get_by_label("The customer asked to cancel").check()
    details = page.get_by_role("textbox", name="Details")
    details.fill("Ordered the same case twice; phoned on Friday.")
    page.get_by_role("button", name=f"Yes, cancel order {order.reference}").click()
    expect(page.locator(".messagelist")).to_contain_text(
        f"Order {order.reference}: Approved -> Pending cancellation."
    )
    cancel = page.locator("#status-history tr").filter(has_text="Approved → Pending cancellation")
    expect(cancel).to_contain_text(
        "Reason: The customer asked to cancel. Ordered the same case twice; phoned on Friday."
    )

    deliver()  # 35up refuses: the order is fulfilled there
    page.goto("/admin/")
    needs = page.locator("#needs-a-person")
    expect(needs.locator("#orders-need-a-person td")).to_have_text("1")
    expect(needs.locator("#deliveries-refused td")).to_have_text("1")
    needs.get_by_role("link", name="Orders that need a person").click()
    rows = page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    rows.first.get_by_role("link", name=order.reference).click()

    banner = page.locator("#needs-a-person .refused-action")
    expect(banner).to_contain_text("35up did not cancel this order.")
    expect(banner).to_contain_text("Refused by 35up")
    expect(banner).to_contain_text("cannot be cancelled")
    banner.get_by_role("button", name="Acknowledge").click()
    expect(page.locator(".messagelist")).to_contain_text("is acknowledged")
    expect(page.locator("#needs-a-person")).to_have_count(0)
    note = page.locator("#status-history tr.order-history-note")
    expect(note).to_contain_text("Acknowledged: delivery #")
    expect(note).to_contain_text(SUPPORT_USERNAME)
    refused = page.locator("#status-history tr.order-history-delivery").filter(
        has_text="35up: Update order status"
    )
    expect(refused).to_contain_text(f"Refused by 35up (acknowledged by {SUPPORT_USERNAME})")

    page.goto("/admin/")
    expect(page.locator("#orders-need-a-person td")).to_have_text("0")
    expect(page.locator("#deliveries-refused td")).to_have_text("0")
