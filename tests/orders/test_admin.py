"""The order admin as support staff use it: list, order page, transitions, bulk actions, CSV."""

import csv
import io
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser

import pytest
from django.contrib.auth.models import Permission
from django.contrib.messages import get_messages
from django.http import StreamingHttpResponse
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from core.actors import ChangeSource
from orders.models import Order, OrderNote, OrderStatus
from orders.services import apply_reported_status
from tests.factories import OrderFactory, OrderLineFactory, UserFactory, order_in_status

pytestmark = pytest.mark.django_db

CHANGELIST_URL = reverse("admin:orders_order_changelist")
EXPORT_URL = reverse("admin:orders_order_export")


def change_url(order):
    return reverse("admin:orders_order_change", args=[order.pk])


def transition_url(order, action):
    return reverse("admin:orders_order_transition", args=[order.pk, action])


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
    """A staff user who may look at orders but holds none of the transition permissions."""
    viewer = UserFactory()
    viewer.user_permissions.add(Permission.objects.get(codename="view_order"))
    viewer_client = Client()
    viewer_client.force_login(viewer)
    return viewer_client


class FormInputs(HTMLParser):
    """The inputs a browser would submit from the order change form."""

    def __init__(self):
        super().__init__()
        self.data = {}
        self._in_form = False

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            self._in_form = attrs.get("id") == "order_form"
        elif (
            tag == "input"
            and self._in_form
            and attrs.get("name")
            and attrs.get("type") not in ("submit", "checkbox")
        ):
            self.data[attrs["name"]] = attrs.get("value", "")


def change_form_data(client, order):
    parser = FormInputs()
    parser.feed(client.get(change_url(order)).content.decode())
    return parser.data


# The list


def test_each_search_finds_its_order(support_client):
    target = order_in_status("approved", reference="ORD-TARGET", email="Ada.Lovelace@Example.com")
    Order.objects.filter(pk=target.pk).update(thirtyfiveup_id="35UP-777", last_name="Lovelace")
    other = order_in_status("approved", reference="ORD-OTHER")

    for term in ["ORD-TARGET", "35UP-777", "ada.lovelace@example.COM", "LOVELACE"]:
        page = support_client.get(CHANGELIST_URL, {"q": term}).content.decode()
        assert "ORD-TARGET" in page, term
        assert other.reference not in page, term


def search(client, term):
    return client.get(CHANGELIST_URL, {"q": term}).content.decode()


@pytest.mark.parametrize(
    "term",
    [
        "de Vries",
        "DE VRIES",
        "vries",
        "LEFEVRE",
        "Lefèvre",
        "Hugo Lefevre",
        "lefevre hugo",
        "Hugo",
        "0023",
        "ORD-00023",
        "hugo.l@",
        "mail.example",
        "35up-9",
    ],
)
def test_search_finds_people_and_orders_the_way_staff_type(support_client, term):
    OrderFactory(
        reference="ORD-000231",
        first_name="Hugo",
        last_name="Lefèvre",
        email="hugo.l@mail.example",
        thirtyfiveup_id="35UP-9",
    )
    OrderFactory(
        reference="ORD-000232", first_name="Anna", last_name="de Vries", email="anna@mail.example"
    )
    OrderFactory(reference="ORD-999999", first_name="Zoe", last_name="Other", email="z@o.example")

    page = search(support_client, term)

    expected = {"ORD-000232"} if "vries" in term.lower() else {"ORD-000231"}
    if term in ("0023", "ORD-00023", "mail.example"):
        expected = {"ORD-000231", "ORD-000232"}
    for reference in expected:
        assert reference in page, term
    assert "ORD-999999" not in page
    for reference in {"ORD-000231", "ORD-000232"} - expected:
        assert reference not in page, term


def test_a_whole_last_name_or_email_finds_exactly_those_orders_first(support_client):
    OrderFactory(reference="ORD-1", last_name="Smith", email="a@shop.example")
    OrderFactory(reference="ORD-2", last_name="Smithson", email="aa@shop.example")

    assert "ORD-2" not in search(support_client, "SMITH")
    assert "ORD-1" in search(support_client, "SMITH")
    both = search(support_client, "smit")
    assert "ORD-1" in both and "ORD-2" in both
    assert "ORD-2" not in search(support_client, "A@shop.example")
    assert "ORD-2" in search(support_client, "aa@shop")


def test_search_needs_every_word_and_treats_wildcards_as_text(support_client):
    OrderFactory(reference="ORD-1", first_name="Hugo", last_name="Lefevre")
    OrderFactory(reference="ORD-2", first_name="Hugo", last_name="Martin")

    assert "ORD-2" not in search(support_client, "hugo lefevre")
    assert "0 results" in search(support_client, "%")
    assert "0 results" in search(support_client, "ORD_1")


def test_filters_by_status_country_and_created_date(support_client):
    approved_in_germany = order_in_status(
        "approved", shipping_country="DE", shipping_state="", reference="ORD-DE"
    )
    order_in_status("approved", reference="ORD-US")
    order_in_status("pending", shipping_country="DE", shipping_state="", reference="ORD-DE-PEND")
    old = order_in_status("approved", shipping_country="DE", shipping_state="", reference="ORD-OLD")
    Order.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(days=30))

    page = support_client.get(
        CHANGELIST_URL,
        {
            "status__exact": "approved",
            "shipping_country__exact": "DE",
            "created_at__gte": str(timezone.now() - timedelta(days=7)),
        },
    ).content.decode()

    assert approved_in_germany.reference in page
    for hidden in ["ORD-US", "ORD-DE-PEND", "ORD-OLD"]:
        assert hidden not in page


def test_list_shows_customer_status_badge_and_marks_unexpected_moves(support_client):
    order = order_in_status("delivered", first_name="Grace", last_name="Hopper")
    apply_reported_status(order_id=order.pk, status="approved")

    page = support_client.get(CHANGELIST_URL).content.decode()

    assert "Grace Hopper" in page
    assert '<span class="order-status order-status--approved">Approved</span>' in page
    assert "unexpected" in page


def test_list_count_is_capped_and_says_so(support_client, settings):
    settings.ORDER_LIST_COUNT_LIMIT = 3
    OrderFactory.create_batch(5)

    page = support_client.get(CHANGELIST_URL).content.decode()

    assert "3+ orders" in page
    assert "5 orders" not in page


def test_list_count_below_the_cap_is_exact(support_client, settings):
    settings.ORDER_LIST_COUNT_LIMIT = 3
    OrderFactory.create_batch(2)

    page = support_client.get(CHANGELIST_URL).content.decode()

    assert "2 orders" in page
    assert "+ orders" not in page


# Who may see what


def test_support_can_view_orders_but_not_manage_users_or_groups(support_client):
    assert support_client.get(CHANGELIST_URL).status_code == 200
    assert support_client.get("/admin/auth/user/").status_code == 403
    assert support_client.get("/admin/auth/user/add/").status_code == 403
    assert support_client.get("/admin/auth/group/").status_code == 403
    assert support_client.get("/admin/auth/group/add/").status_code == 403
    assert "/admin/auth/" not in support_client.get("/admin/").content.decode()


def test_support_sees_no_delete_and_cannot_add_orders(support_client):
    order = order_in_status("pending")

    list_page = support_client.get(CHANGELIST_URL).content.decode()
    order_page = support_client.get(change_url(order)).content.decode()

    assert "delete_selected" not in list_page
    assert reverse("admin:orders_order_delete", args=[order.pk]) not in order_page
    assert reverse("admin:orders_order_add") not in list_page
    assert support_client.get(reverse("admin:orders_order_add")).status_code == 403


def test_bulk_actions_offered_are_only_those_the_user_may_run(client):
    approver = UserFactory()
    approver.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_order", "approve_order"])
    )
    client.force_login(approver)

    page = client.get(CHANGELIST_URL).content.decode()

    assert "approve_orders" in page
    assert "hold_orders" not in page
    assert "cancel_orders" not in page


# The order page


def test_order_page_shows_lines_shipments_history_and_read_only_status(support_client):
    order = order_in_status("approved")
    line = order.lines.get()
    apply_reported_status(order_id=order.pk, status="fulfilled", message="Shipped by vendor")

    page = support_client.get(change_url(order)).content.decode()

    assert line.sku in page
    assert "Status history" in page
    assert "Approved &rarr; Fulfilled" in page
    assert "Shipped by vendor" in page
    assert "35up sync" in page
    assert 'name="status"' not in page


def test_shipment_inline_shows_the_quantities_shipped(support_client):
    from tests.factories import ShipmentFactory, ShipmentLineFactory

    order = order_in_status("fulfilled")
    shipment = ShipmentFactory(order=order, tracking_number="1ZTRACK")
    ShipmentLineFactory(shipment=shipment, order_line=order.lines.get(), quantity=2)

    page = support_client.get(change_url(order)).content.decode()

    assert "1ZTRACK" in page
    assert f"2 x {order.lines.get().sku}" in page


def test_unexpected_status_shows_a_banner_and_a_highlighted_history_row(support_client):
    order = order_in_status("delivered")
    apply_reported_status(order_id=order.pk, status="approved")

    page = support_client.get(change_url(order)).content.decode()

    assert "outside its documented graph" in page
    assert 'class="order-history-unexpected"' in page


def test_support_approves_a_pending_order_with_a_message(support_client, support_user):
    order = order_in_status("pending")

    order_page = support_client.get(change_url(order)).content.decode()
    assert transition_url(order, "approve") in order_page
    confirm_page = support_client.get(transition_url(order, "approve")).content.decode()
    assert "moves from <strong>Pending</strong> to <strong>Approved</strong>" in confirm_page

    response = support_client.post(transition_url(order, "approve"), {"message": "Paid by card"})

    assert response.status_code == 302
    order.refresh_from_db()
    assert order.status == OrderStatus.APPROVED
    change = order.history.latest("id")
    assert (change.from_status, change.to_status) == ("pending", "approved")
    assert change.message == "Paid by card"
    assert change.source == ChangeSource.STAFF
    assert change.user == support_user
    assert messages_of(response) == [f"Order {order.reference}: Pending -> Approved."]


def test_approved_order_offers_hold_and_cancel_but_not_approve(support_client):
    order = order_in_status("approved")

    page = support_client.get(change_url(order)).content.decode()

    assert transition_url(order, "approve") not in page
    assert transition_url(order, "hold") in page
    assert transition_url(order, "cancel") in page


def test_cancel_confirmation_says_what_will_happen(support_client):
    order = order_in_status("approved")

    page = support_client.get(transition_url(order, "cancel")).content.decode()

    assert "to <strong>Pending cancellation</strong>" in page
    assert "35up is asked to cancel the order" in page
    assert "cannot be undone" in page


def test_user_without_approve_permission_sees_no_button_and_a_forged_post_is_refused(
    viewer_client,
):
    order = order_in_status("pending")

    page = viewer_client.get(change_url(order)).content.decode()
    assert "/transition/" not in page

    assert viewer_client.get(transition_url(order, "approve")).status_code == 403
    response = viewer_client.post(transition_url(order, "approve"), {"message": "forged"})

    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING
    assert not order.history.filter(message="forged").exists()


def test_transition_no_longer_valid_is_reported_not_applied(support_client):
    order = order_in_status("approved")

    response = support_client.post(transition_url(order, "approve"), {"message": "again"})

    assert response.status_code == 302
    assert messages_of(response) == [f"Order {order.reference} is approved: it cannot be approved."]
    assert not order.history.filter(message="again").exists()


def test_unknown_action_is_not_found(support_client):
    order = order_in_status("pending")

    assert support_client.post(transition_url(order, "delete")).status_code == 404


# Bulk actions


def test_bulk_approve_reports_per_order_and_never_fails_the_batch(support_client):
    pending = [order_in_status("pending") for _ in range(3)]
    approved = order_in_status("approved")
    selected = [str(order.pk) for order in [*pending, approved]]

    confirm_page = support_client.post(
        CHANGELIST_URL, {"action": "approve_orders", "_selected_action": selected}
    )
    assert "Approve 4 orders?" in confirm_page.content.decode()
    assert Order.objects.filter(status="approved").count() == 1

    response = support_client.post(
        CHANGELIST_URL,
        {
            "action": "approve_orders",
            "_selected_action": selected,
            "message": "Paid",
            "confirm": "Yes",
        },
    )

    assert response.status_code == 302
    for order in pending:
        order.refresh_from_db()
        assert order.status == OrderStatus.APPROVED
        assert order.history.latest("id").message == "Paid"
    assert sorted(messages_of(response)) == sorted(
        [f"{order.reference}: Pending -> Approved" for order in pending]
        + [f"Order {approved.reference} is approved: it cannot be approved."]
    )


def test_bulk_cancel_confirmation_warns_it_is_destructive(support_client):
    order = order_in_status("pending")

    page = support_client.post(
        CHANGELIST_URL, {"action": "cancel_orders", "_selected_action": [order.pk]}
    ).content.decode()

    assert "Cancelling cannot be undone" in page
    order.refresh_from_db()
    assert order.status == OrderStatus.PENDING


def test_bulk_action_refuses_more_orders_than_one_request_can_handle(support_client, monkeypatch):
    monkeypatch.setattr("orders.admin.MAX_BULK_ORDERS", 2)
    orders = [order_in_status("pending") for _ in range(3)]

    response = support_client.post(
        CHANGELIST_URL,
        {
            "action": "approve_orders",
            "_selected_action": [order.pk for order in orders],
            "confirm": "Yes",
        },
    )

    assert messages_of(response) == ["A bulk action takes at most 2 orders: narrow the list first."]
    assert not Order.objects.filter(status=OrderStatus.APPROVED).exists()


# Notes


def test_note_added_on_the_order_page_records_author_and_time(support_client, support_user):
    order = order_in_status("pending")
    data = change_form_data(support_client, order)
    data["notes-0-body"] = "Customer called about the delivery date"

    response = support_client.post(change_url(order), {**data, "_continue": "Save"})

    assert response.status_code == 302
    note = OrderNote.objects.get(order=order)
    assert note.author == support_user
    assert timezone.now() - note.created_at < timedelta(minutes=1)
    page = support_client.get(change_url(order)).content.decode()
    assert "Customer called about the delivery date" in page
    assert support_user.username in page


def test_note_author_cannot_be_set_from_the_form(support_client, support_user):
    someone_else = UserFactory()
    order = order_in_status("pending")
    data = change_form_data(support_client, order)
    data.update({"notes-0-body": "Checked the address", "notes-0-author": str(someone_else.pk)})

    support_client.post(change_url(order), {**data, "_continue": "Save"})

    assert OrderNote.objects.get(order=order).author == support_user


def test_notes_stay_out_of_the_csv_export(support_client, support_user):
    order = order_in_status("pending")
    OrderNote.objects.create(order=order, author=support_user, body="Secret internal remark")

    body = b"".join(support_client.get(EXPORT_URL).streaming_content).decode()

    assert order.reference in body
    assert "Secret internal remark" not in body


# CSV export


def read_csv(response):
    """The rows as Excel reads them: it needs the UTF-8 byte order mark to read UTF-8."""
    content = b"".join(response.streaming_content)
    assert content.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))


def test_csv_export_streams_the_filtered_list(support_client):
    german = order_in_status(
        "approved",
        shipping_country="DE",
        shipping_state="",
        currency="EUR",
        first_name="Jürgen",
        phone="+49 30 1234567",
        shipping_street="Müllerstraße",
        shipping_street_number="5a",
        shipping_postcode="10115",
        shipping_city="Berlin",
        shipping_extra="Hinterhaus",
        shipping_company="",
        ordered_at=datetime(2026, 11, 3, 9, 30, tzinfo=UTC),
    )
    OrderLineFactory(order=german, quantity=1, unit_price="10.00")
    order_in_status("approved", shipping_country="US")

    response = support_client.get(EXPORT_URL, {"shipping_country__exact": "DE"})

    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert "attachment" in response["Content-Disposition"]
    header, *rows = read_csv(response)
    assert header == [
        "reference",
        "status",
        "35up id",
        "ordered at (UTC)",
        "first name",
        "last name",
        "email",
        "phone",
        "company",
        "street",
        "house number",
        "address extra",
        "postcode",
        "city",
        "state",
        "country",
        "currency",
        "lines",
        "total",
        "imported at (UTC)",
    ]
    assert rows == [
        [
            german.reference,
            "approved",
            "",
            "2026-11-03T09:30:00Z",
            "Jürgen",
            german.last_name,
            german.email,
            # A leading + would make a spreadsheet read a formula.
            "'+49 30 1234567",
            "",
            "Müllerstraße",
            "5a",
            "Hinterhaus",
            "10115",
            "Berlin",
            "",
            "DE",
            "EUR",
            "2",
            "69.98",
            german.created_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        ]
    ]


def test_csv_export_respects_the_search(support_client):
    OrderFactory(reference="ORD-WANTED")
    OrderFactory(reference="ORD-NOT-WANTED")

    _, *rows = read_csv(support_client.get(EXPORT_URL, {"q": "ORD-WANTED"}))

    assert [row[0] for row in rows] == ["ORD-WANTED"]


def test_csv_export_quotes_cells_a_spreadsheet_would_run(support_client):
    OrderFactory(first_name="=HYPERLINK(1)")

    _, row = read_csv(support_client.get(EXPORT_URL))

    assert row[4] == "'=HYPERLINK(1)"


def test_csv_export_button_and_download_need_the_export_permission(support_client, viewer_client):
    assert "Export CSV" in support_client.get(CHANGELIST_URL).content.decode()

    assert "Export CSV" not in viewer_client.get(CHANGELIST_URL).content.decode()
    assert viewer_client.get(EXPORT_URL).status_code == 403
