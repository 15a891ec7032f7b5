"""The return admin as support staff use it: the list, the return page and its actions, the
order page's returns and its "Request a return" form, the admin index's count."""

from datetime import timedelta

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.actors import Actor
from orders.models import Order
from outbox.models import Delivery
from returns.models import Return, ReturnStatus, ReturnStatusChange
from returns.services import apply_reported_status, request_return
from tests.factories import OrderLineFactory, UserFactory
from tests.returns.helpers import return_in_status, returnable_order

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:returns_return_changelist")


def change_url(return_request):
    return reverse("admin:returns_return_change", args=[return_request.pk])


def transition_url(return_request, action):
    return reverse("admin:returns_return_transition", args=[return_request.pk, action])


def order_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def request_url(order):
    return reverse("admin:returns_return_request", args=[order.pk])


def messages_of(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def support_user():
    return UserFactory(groups=["support"])


@pytest.fixture
def support_client(client, support_user):
    client.force_login(support_user)
    return client


@pytest.fixture
def viewer_client():
    """May look at orders and returns, may run no return action and request no return."""
    viewer_client = Client()
    viewer_client.force_login(_user_with("view_order", "view_return"))
    return viewer_client


# The list


def test_list_shows_order_customer_status_35up_id_lines_and_age(support_client):
    order = returnable_order(quantity=3)
    Order.objects.filter(pk=order.pk).update(first_name="Grace", last_name="Hopper")
    return_request = return_in_status("awaiting_return", order=order, quantity=2)
    Return.objects.filter(pk=return_request.pk).update(
        created_at=timezone.now() - timedelta(days=3, hours=2)
    )
    sku = order.lines.get().sku

    page = support_client.get(CHANGELIST_URL).content.decode()

    assert f'href="{change_url(return_request)}"' in page
    assert order.reference in page
    assert "Grace Hopper" in page
    assert (
        '<span class="order-status return-status--awaiting_return">Awaiting return</span>' in page
    )
    assert f"R-{return_request.pk}" in page
    assert f"2 x {sku}" in page
    assert "3\xa0days" in page
    assert "1 return" in page


def test_list_marks_unexpected_moves(support_client):
    return_request = return_in_status("refunded")
    apply_reported_status(return_id=return_request.pk, status="awaiting_return")

    page = support_client.get(CHANGELIST_URL).content.decode()

    assert "return-status--awaiting_return" in page
    assert "unexpected" in page


def test_each_search_finds_its_return(support_client):
    target_order = returnable_order()
    Order.objects.filter(pk=target_order.pk).update(
        reference="ORD-TARGET", email="Ada.Lovelace@Example.com", last_name="Lovelace"
    )
    target = return_in_status("awaiting_return", order=target_order)
    Return.objects.filter(pk=target.pk).update(thirtyfiveup_id="35UP-R-777")
    other = return_in_status("awaiting_return")

    for term in ["ORD-TARGET", "35UP-R-777", "ada.lovelace@example.COM", "LOVELACE", " Lovelace "]:
        page = support_client.get(CHANGELIST_URL, {"q": term}).content.decode()
        assert change_url(target) in page, term
        assert change_url(other) not in page, term


def test_search_is_exact_not_a_substring_match(support_client):
    order = returnable_order()
    Order.objects.filter(pk=order.pk).update(reference="ORD-123456")
    return_in_status("awaiting_return", order=order)

    page = support_client.get(CHANGELIST_URL, {"q": "ORD-123"}).content.decode()

    assert "ORD-123456" not in page
    assert "0 results" in page


def test_filters_by_status(support_client):
    waiting = return_in_status("seller_received")
    refunded = return_in_status("refunded")

    page = support_client.get(CHANGELIST_URL, {"status__exact": "seller_received"}).content.decode()

    assert change_url(waiting) in page
    assert change_url(refunded) not in page


def test_list_count_is_capped_and_says_so(support_client, settings):
    settings.ORDER_LIST_COUNT_LIMIT = 2
    order = returnable_order(quantity=5)
    for _ in range(3):
        return_in_status("awaiting_return", order=order)

    page = support_client.get(CHANGELIST_URL).content.decode()

    assert "2+ returns" in page
    assert "3 returns" not in page


def test_returns_are_not_added_changed_or_deleted_in_the_admin(support_client):
    return_request = return_in_status("awaiting_return")

    list_page = support_client.get(CHANGELIST_URL).content.decode()
    page = support_client.get(change_url(return_request)).content.decode()

    assert reverse("admin:returns_return_add") not in list_page
    assert "delete_selected" not in list_page
    assert support_client.get(reverse("admin:returns_return_add")).status_code == 403
    assert reverse("admin:returns_return_delete", args=[return_request.pk]) not in page
    assert 'name="_save"' not in page
    support_client.post(change_url(return_request), {"reason": "edited"})
    return_request.refresh_from_db()
    assert return_request.reason == "Too small"


def test_staff_without_return_permissions_cannot_open_returns(client):
    client.force_login(UserFactory())
    return_request = return_in_status("awaiting_return")

    assert client.get(CHANGELIST_URL).status_code == 403
    assert client.get(change_url(return_request)).status_code == 403
    assert client.post(transition_url(return_request, "cancel")).status_code == 403


# The return page


def test_return_page_shows_order_lines_reason_requester_and_timeline(support_client, support_user):
    order = returnable_order(quantity=3)
    line = order.lines.get()
    return_request = request_return(
        order_id=order.pk,
        lines=[(line.pk, 2)],
        reason="Wrong colour",
        actor=Actor.staff(support_user),
    )
    Return.objects.filter(pk=return_request.pk).update(thirtyfiveup_id="R-900")
    apply_reported_status(return_id=return_request.pk, status="created")

    page = support_client.get(change_url(return_request)).content.decode()

    assert f'href="{order_url(order)}"' in page
    assert order.reference in page
    assert line.sku in page and line.name in page
    assert line.thirtyfiveup_item_id in page
    assert "Wrong colour" in page
    assert support_user.username in page
    assert "R-900" in page
    assert "Status history and deliveries" in page
    assert "Return requested: Wrong colour" in page
    assert "New (not yet at 35up) &rarr; Created" in page
    delivery = Delivery.objects.get(subject_type="returns.return", subject_id=return_request.pk)
    assert f"Delivery #{delivery.pk}" in page
    assert delivery.operation_label in page


def test_return_page_timeline_keeps_changes_before_their_deliveries(support_client, support_user):
    return_request = return_in_status("awaiting_return")
    support_client.post(transition_url(return_request, "mark_customer_shipped"), {"message": "x"})

    page = support_client.get(change_url(return_request)).content.decode()

    change = page.index("Awaiting return &rarr; Customer shipped")
    patch = Delivery.objects.get(subject_type="returns.return", subject_id=return_request.pk)
    assert change < page.index(f"Delivery #{patch.pk}")


def test_return_page_timeline_links_to_all_its_deliveries_when_cut(support_client, monkeypatch):
    monkeypatch.setattr("outbox.selectors.TIMELINE_DELIVERY_LIMIT", 1)
    return_request = return_in_status("awaiting_return")
    support_client.post(transition_url(return_request, "mark_customer_shipped"))
    support_client.post(transition_url(return_request, "mark_seller_received"))

    page = support_client.get(change_url(return_request)).content.decode()

    deliveries = reverse("admin:outbox_delivery_changelist")
    assert (
        f'{deliveries}?subject_type__exact=returns.return&amp;subject_id__exact={return_request.pk}"'
        ">all deliveries of this return</a>"
    ) in page


@pytest.mark.parametrize(
    ("status", "offered"),
    [
        ("new", ["cancel"]),
        ("created", ["cancel"]),
        ("awaiting_return", ["cancel", "mark_customer_shipped", "mark_seller_received"]),
        ("customer_shipped", ["mark_seller_received"]),
        ("seller_received", ["mark_seller_shipped"]),
        ("seller_shipped", []),
        ("refunded", []),
        ("closed", []),
    ],
)
def test_return_page_offers_the_actions_valid_now(support_client, status, offered):
    return_request = return_in_status(status)

    page = support_client.get(change_url(return_request)).content.decode()

    for action in [
        "cancel",
        "mark_customer_shipped",
        "mark_seller_received",
        "mark_seller_shipped",
    ]:
        assert (transition_url(return_request, action) in page) == (action in offered), action
    assert ('id="return-actions"' in page) == bool(offered)


def test_return_page_offers_only_permitted_actions(client):
    client.force_login(_user_with("view_return", "mark_customer_shipped_return"))
    return_request = return_in_status("awaiting_return")

    page = client.get(change_url(return_request)).content.decode()

    assert transition_url(return_request, "mark_customer_shipped") in page
    assert transition_url(return_request, "cancel") not in page
    assert transition_url(return_request, "mark_seller_received") not in page


def test_viewer_sees_the_return_without_actions(viewer_client):
    return_request = return_in_status("awaiting_return")

    page = viewer_client.get(change_url(return_request)).content.decode()

    assert return_request.order.reference in page
    assert 'id="return-actions"' not in page
    assert "/transition/" not in page


# Actions


def test_an_action_with_a_message_moves_the_return_and_tells_35up(support_client, support_user):
    return_request = return_in_status("awaiting_return")

    response = support_client.post(
        transition_url(return_request, "mark_seller_received"),
        {"message": "Parcel arrived at the shop."},
    )

    assert response.status_code == 302
    assert response["Location"] == change_url(return_request)
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.SELLER_RECEIVED
    change = return_request.history.get()
    assert (change.from_status, change.to_status) == ("awaiting_return", "seller_received")
    assert change.message == "Parcel arrived at the shop."
    assert change.user == support_user
    assert change.source == "staff"
    delivery = Delivery.objects.get(subject_type="returns.return", subject_id=return_request.pk)
    assert delivery.payload == {"status": "seller_received"}
    assert messages_of(response) == [
        f"Return #{return_request.pk} of {return_request.order.reference}: Awaiting return -> "
        "Seller received (35up is told)."
    ]


def test_the_message_is_optional(support_client):
    return_request = return_in_status("customer_shipped")

    support_client.post(transition_url(return_request, "mark_seller_received"))

    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.SELLER_RECEIVED
    assert return_request.history.get().message == ""


def test_cancel_asks_for_confirmation_and_keeps_the_message(support_client):
    return_request = return_in_status("awaiting_return")

    page = support_client.post(
        transition_url(return_request, "cancel"), {"message": "Customer keeps it."}
    )

    assert page.status_code == 200
    content = page.content.decode()
    assert "This cannot be undone." in content
    assert "Customer keeps it." in content
    assert 'name="confirm"' in content
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.AWAITING_RETURN
    assert not Delivery.objects.filter(subject_type="returns.return").exists()

    response = support_client.post(
        transition_url(return_request, "cancel"),
        {"message": "Customer keeps it.", "confirm": "Yes"},
    )

    assert response.status_code == 302
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.CANCELLED
    assert return_request.history.get().message == "Customer keeps it."


def test_cancelling_a_return_35up_never_accepted_says_it_is_cancelled_here_only(support_client):
    return_request = return_in_status("new")

    page = support_client.post(transition_url(return_request, "cancel")).content.decode()
    response = support_client.post(transition_url(return_request, "cancel"), {"confirm": "Yes"})

    assert "35up has not accepted it yet: it is cancelled here" in page
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.CANCELLED
    assert messages_of(response)[-1] == (
        f"Return #{return_request.pk} of {return_request.order.reference}: New (not yet at 35up) "
        "-> Cancelled (here only)."
    )
    assert not Delivery.objects.filter(subject_type="returns.return").exists()


def test_opening_an_action_link_shows_its_confirmation_and_changes_nothing(support_client):
    return_request = return_in_status("seller_received")

    page = support_client.get(transition_url(return_request, "mark_seller_shipped"))

    assert page.status_code == 200
    assert "Seller shipped" in page.content.decode()
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.SELLER_RECEIVED


def test_forged_post_without_permission_is_refused_with_a_message(viewer_client):
    return_request = return_in_status("awaiting_return")

    for action in ["cancel", "mark_customer_shipped", "mark_seller_received"]:
        response = viewer_client.post(
            transition_url(return_request, action), {"message": "forged", "confirm": "Yes"}
        )
        assert response.status_code == 302
        assert response["Location"] == change_url(return_request)
        assert messages_of(response)[-1] == (
            f"You do not have permission to {action.replace('_', ' ')}."
        )

    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.AWAITING_RETURN
    assert not ReturnStatusChange.objects.exists()
    assert not Delivery.objects.filter(subject_type="returns.return").exists()


def test_forged_post_with_one_permission_runs_only_that_action(client):
    client.force_login(_user_with("view_return", "mark_customer_shipped_return"))
    return_request = return_in_status("awaiting_return")

    refused = client.post(transition_url(return_request, "mark_seller_received"))
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.AWAITING_RETURN
    assert messages_of(refused) == ["You do not have permission to mark seller received."]

    client.post(transition_url(return_request, "mark_customer_shipped"))
    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.CUSTOMER_SHIPPED


def test_an_action_not_valid_now_is_refused_with_a_message(support_client):
    return_request = return_in_status("refunded")

    response = support_client.post(transition_url(return_request, "cancel"), {"confirm": "Yes"})
    opened = support_client.get(transition_url(return_request, "mark_seller_shipped"))

    return_request.refresh_from_db()
    assert return_request.status == ReturnStatus.REFUNDED
    assert messages_of(response) == [
        f"Return {return_request.pk} is refunded: it cannot become cancelled."
    ]
    assert opened.status_code == 302
    assert messages_of(opened)[-1] == (
        f'Return #{return_request.pk} is refunded: "We shipped it to the vendor" is not possible '
        "now."
    )


def test_an_unknown_action_is_not_found(support_client):
    return_request = return_in_status("awaiting_return")

    assert (
        support_client.post(transition_url(return_request, "apply_reported_status")).status_code
        == 404
    )


# The order page


def test_order_page_lists_its_returns(support_client):
    order = returnable_order(quantity=3)
    first = return_in_status("refunded", order=order)
    second = return_in_status("awaiting_return", order=order, quantity=2)
    other = return_in_status("awaiting_return")
    sku = order.lines.get().sku

    page = support_client.get(order_url(order)).content.decode()

    section = page[page.index('id="order-returns"') :]
    assert f'href="{change_url(first)}"' in section
    assert f'href="{change_url(second)}"' in section
    assert f'href="{change_url(other)}"' not in section
    assert section.index(f"#{second.pk}") < section.index(f"#{first.pk}")  # newest first
    assert "return-status--refunded" in section and "Awaiting return" in section
    assert f"2 x {sku}" in section


@pytest.mark.parametrize(
    ("status", "has_35up_id", "offered"),
    [
        ("delivered", True, True),
        ("fulfilled", True, True),
        ("delivered", False, False),
        ("processing", True, False),
        ("closed", True, False),
        ("cancelled", True, False),
    ],
)
def test_order_page_offers_a_return_only_for_an_eligible_order(
    support_client, status, has_35up_id, offered
):
    order = returnable_order(status=status)
    if not has_35up_id:
        Order.objects.filter(pk=order.pk).update(thirtyfiveup_id=None)

    page = support_client.get(order_url(order)).content.decode()

    assert 'id="order-returns"' in page
    assert (request_url(order) in page) == offered


def test_order_page_offers_no_return_without_the_permission(viewer_client):
    order = returnable_order()
    return_request = return_in_status("awaiting_return", order=order)

    page = viewer_client.get(order_url(order)).content.decode()

    assert f'href="{change_url(return_request)}"' in page
    assert request_url(order) not in page
    assert viewer_client.get(request_url(order)).status_code == 403


def test_order_page_without_return_permissions_has_no_returns_section(client):
    client.force_login(_user_with("view_order"))
    order = returnable_order()

    page = client.get(order_url(order)).content.decode()

    assert 'id="order-returns"' not in page


# Request a return


def test_request_form_lists_each_line_with_what_may_be_returned_and_why_not(support_client):
    order = returnable_order(quantity=3)
    held = order.lines.get()
    return_in_status("awaiting_return", order=order, quantity=3)
    no_item_id = OrderLineFactory(order=order, sku="anker/NO-ID", quantity=1)
    free = OrderLineFactory(order=order, sku="anker/FREE", quantity=2, thirtyfiveup_item_id="I-2")

    page = support_client.get(request_url(order)).content.decode()

    assert page.count('class="return-request-line"') == 3
    assert "Every unit is already in a return." in _row(page, held)
    assert "35up has not reported the item id of this line yet." in _row(page, no_item_id)
    assert f'name="quantity_{free.pk}"' in _row(page, free)
    assert 'max="2"' in _row(page, free)
    assert "disabled" in _row(page, held) and "disabled" not in _row(page, free)
    assert "Request return" in page


def test_request_a_return_creates_it_and_opens_its_page(support_client, support_user):
    order = returnable_order(quantity=3)
    line = order.lines.get()
    other = OrderLineFactory(order=order, quantity=1, thirtyfiveup_item_id="I-9")

    response = support_client.post(
        request_url(order),
        {f"quantity_{line.pk}": "2", f"quantity_{other.pk}": "0", "reason": "Too small"},
    )

    return_request = Return.objects.get()
    assert response.status_code == 302
    assert response["Location"] == change_url(return_request)
    assert [(x.order_line_id, x.quantity) for x in return_request.lines.all()] == [(line.pk, 2)]
    assert return_request.reason == "Too small"
    assert return_request.requested_by == support_user
    assert return_request.status == ReturnStatus.NEW
    assert Delivery.objects.filter(subject_type="returns.return").count() == 1
    assert messages_of(response) == [
        f"Return #{return_request.pk} of order {order.reference} requested: 2 x {line.sku}. "
        "It is sent to 35up; this page shows when 35up accepts it."
    ]


def test_request_form_refuses_an_order_that_is_not_returnable(support_client):
    order = returnable_order(status="processing")
    line = order.lines.get()

    page = support_client.get(request_url(order)).content.decode()
    response = support_client.post(
        request_url(order), {f"quantity_{line.pk}": "1", "reason": "Too small"}
    )

    refusal = (
        f"Order {order.reference} is processing: only orders 35up has fulfilled or delivered "
        "can be returned."
    )
    assert refusal in page
    assert 'value="Request return"' not in page
    assert response.status_code == 200
    assert refusal in response.content.decode()
    assert not Return.objects.exists()


def test_request_form_refuses_an_order_never_placed_at_35up(support_client):
    order = returnable_order()
    Order.objects.filter(pk=order.pk).update(thirtyfiveup_id=None)

    page = support_client.get(request_url(order)).content.decode()

    assert f"Order {order.reference} has no 35up id: it was never placed at 35up." in page


def test_request_form_says_what_other_returns_hold_and_keeps_the_input(support_client):
    order = returnable_order(quantity=3)
    line = order.lines.get()
    return_in_status("customer_shipped", order=order, quantity=2)
    return_in_status("cancelled", order=order, quantity=3)  # gives its units back

    response = support_client.post(
        request_url(order), {f"quantity_{line.pk}": "2", "reason": "Broken on arrival"}
    )

    page = response.content.decode()
    assert response.status_code == 200
    assert (
        f"{line.sku}: 2 is more than the 1 that can still be returned (3 ordered, 2 in other "
        "returns)."
    ) in page
    assert f'name="quantity_{line.pk}" value="2"' in page
    assert "Broken on arrival</textarea>" in page
    assert Return.objects.count() == 2


def test_request_form_refuses_a_line_without_35up_item_id(support_client):
    order = returnable_order()
    line = OrderLineFactory(order=order, sku="anker/NO-ID", quantity=1)
    assert not line.thirtyfiveup_item_id

    response = support_client.post(
        request_url(order), {f"quantity_{line.pk}": "1", "reason": "Too small"}
    )

    assert "anker/NO-ID: 35up has not reported the item id of this line yet." in (
        response.content.decode()
    )
    assert not Return.objects.exists()


def test_request_form_needs_a_reason_and_a_line(support_client):
    order = returnable_order()
    line = order.lines.get()

    no_reason = support_client.post(request_url(order), {f"quantity_{line.pk}": "1", "reason": " "})
    nothing = support_client.post(request_url(order), {f"quantity_{line.pk}": "0", "reason": "x"})

    assert "A return needs a reason." in no_reason.content.decode()
    assert f'name="quantity_{line.pk}" value="1"' in no_reason.content.decode()
    assert "A return needs at least one line." in nothing.content.decode()
    assert not Return.objects.exists()


def test_request_form_rejects_what_is_not_a_quantity(support_client):
    order = returnable_order()
    line = order.lines.get()

    response = support_client.post(
        request_url(order), {f"quantity_{line.pk}": "-1", "reason": "Too small"}
    )

    assert response.status_code == 200
    assert "greater than or equal to 0" in response.content.decode()
    assert not Return.objects.exists()


def test_forged_request_without_permission_is_refused_with_a_message(viewer_client):
    order = returnable_order()
    line = order.lines.get()

    response = viewer_client.post(
        request_url(order), {f"quantity_{line.pk}": "1", "reason": "Too small"}
    )

    assert response.status_code == 302
    assert response["Location"] == order_url(order)
    assert messages_of(response) == ["You do not have permission to request returns."]
    assert not Return.objects.exists()


def test_request_form_of_an_unknown_order_is_not_found(support_client):
    assert (
        support_client.get(reverse("admin:returns_return_request", args=[999999])).status_code
        == 404
    )


# The admin index


def test_index_counts_returns_waiting_on_the_shop_and_links_to_them(support_client):
    return_in_status("seller_received")
    return_in_status("seller_received")
    return_in_status("customer_shipped")

    index = support_client.get(reverse("admin:index")).content.decode()

    link = f"{CHANGELIST_URL}?status__exact=seller_received"
    assert "Returns that need the shop" in index
    section = index[index.index('id="return-alerts"') :]
    assert f'href="{link}"' in section
    assert 'font-weight:bold">2</td>' in section


def test_index_shows_no_return_count_to_staff_without_return_permissions(client):
    client.force_login(_user_with("view_order"))

    index = client.get(reverse("admin:index")).content.decode()

    assert 'id="return-alerts"' not in index


def _user_with(*codenames):
    user = UserFactory()
    user.user_permissions.add(*Permission.objects.filter(codename__in=codenames))
    return user


def _row(page, line):
    start = page.index(f'id="line-{line.pk}"')
    return page[start : page.index("</tr>", start)]
