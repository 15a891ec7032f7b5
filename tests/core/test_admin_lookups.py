"""Admin lists accept only the parameters they offer (core.admin.ListParametersMixin): a hand-made
lookup or an out-of-range value shows the list with a message, never runs, never answers 500."""

import pytest
from django.contrib.admin import site
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from orders.models import Order, OrderStatus
from tests.factories import DeliveryFactory, UserFactory, order_in_status
from tests.returns.helpers import return_in_status

pytestmark = pytest.mark.django_db

ORDERS = reverse("admin:orders_order_changelist")
EXPORT = reverse("admin:orders_order_export")
DELIVERIES = reverse("admin:outbox_delivery_changelist")
RETURNS = reverse("admin:returns_return_changelist")

EVIL_REGEX = "^([a-z@.]+)*!"
# A field each list could be searched on with a regular expression, had Django applied it.
REGEX_PROBES = {
    ORDERS: "email__regex",
    EXPORT: "email__regex",
    DELIVERIES: "target__regex",
    RETURNS: "order__email__regex",
}
NOT_OFFERED = "cannot be filtered by"
NOT_APPLIED = "could not be applied"


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_superuser=True))
    order = order_in_status(OrderStatus.PENDING)
    DeliveryFactory(subject=order)
    return_in_status("created")
    return client


def page_text(response):
    assert response.status_code == 200
    return response.content.decode()


def no_regex_ran(queries):
    sql = " ".join(query["sql"] for query in queries).upper()
    return "REGEXP" not in sql and " ~ " not in sql and EVIL_REGEX.upper() not in sql


@pytest.mark.parametrize("url", list(REGEX_PROBES))
def test_a_regex_lookup_is_refused_with_a_message_and_never_runs(admin_client, url):
    with CaptureQueriesContext(connection) as queries:
        response = admin_client.get(url, {REGEX_PROBES[url]: EVIL_REGEX}, follow=True)

    text = page_text(response)
    assert NOT_OFFERED in text
    assert REGEX_PROBES[url] in text
    assert no_regex_ran(queries.captured_queries)
    # The list is shown, without the refused parameter.
    assert response.redirect_chain
    assert "regex" not in response.redirect_chain[-1][0]


@pytest.mark.parametrize("url", list(REGEX_PROBES))
@pytest.mark.parametrize(
    "probe", [{"created_at__year": "99999999999"}, {"pk": "abc"}, {"id__gt": "1e999"}]
)
def test_lookups_the_list_does_not_offer_show_the_list_with_a_message(admin_client, url, probe):
    response = admin_client.get(url, probe, follow=True)

    text = page_text(response)
    assert NOT_OFFERED in text
    assert next(iter(probe)) in text


@pytest.mark.parametrize("url", [ORDERS, EXPORT])
@pytest.mark.parametrize("value", ["99999-01-01", "0000-01-01", "2024-13-45", "9" * 30])
def test_an_offered_date_filter_with_a_value_out_of_range_shows_a_message(admin_client, url, value):
    response = admin_client.get(url, {"created_at__gte": value}, follow=True)

    text = page_text(response)
    assert NOT_APPLIED in text


@pytest.mark.parametrize(
    ("url", "probe"),
    [(ORDERS, {"created_at__gte": "99999-01-01"}), (DELIVERIES, {"subject_id__exact": "abc"})],
)
def test_a_bad_value_beside_the_error_flag_still_shows_the_list_with_a_message(
    admin_client, url, probe
):
    # Not Django's "database error" page, which it shows for failing filters beside "?e=1".
    response = admin_client.get(url, {"e": "1", **probe}, follow=True)

    text = page_text(response)
    assert NOT_APPLIED in text
    assert "Database error" not in text
    assert response.redirect_chain[-1][0] == f"{url}?e=1"


def test_a_refused_parameter_keeps_the_offered_ones(admin_client):
    cancelled = order_in_status(OrderStatus.CANCELLED)

    response = admin_client.get(
        ORDERS, {"status__exact": "cancelled", "email__regex": EVIL_REGEX}, follow=True
    )

    text = page_text(response)
    assert NOT_OFFERED in text
    assert response.redirect_chain[-1][0] == f"{ORDERS}?status__exact=cancelled"
    assert list(response.context["cl"].result_list) == [cancelled]


def test_the_lists_own_filters_search_ordering_and_paging_still_work(admin_client):
    cancelled = order_in_status(OrderStatus.CANCELLED)

    response = admin_client.get(
        ORDERS,
        {"status__exact": "cancelled", "o": "1", "p": "1", "q": cancelled.reference},
    )

    text = page_text(response)
    assert NOT_OFFERED not in text and NOT_APPLIED not in text
    assert list(response.context["cl"].result_list) == [cancelled]


def test_the_export_refuses_a_lookup_the_list_does_not_offer_instead_of_exporting(admin_client):
    response = admin_client.get(EXPORT, {"email__regex": EVIL_REGEX})

    # No file: back to the list, which says why.
    assert response.status_code == 302
    assert page_text(admin_client.get(response.url)).count(NOT_OFFERED) == 1


def test_the_deliveries_of_one_subject_are_still_linked_from_the_order_page(admin_client):
    delivery = DeliveryFactory(subject=order_in_status(OrderStatus.APPROVED))

    response = admin_client.get(
        DELIVERIES,
        {
            "subject_type__exact": "orders.order",
            "subject_id__exact": delivery.subject_id,
            "provider__exact": delivery.provider,
        },
    )

    assert NOT_OFFERED not in page_text(response)
    shown = list(response.context["cl"].result_list)
    assert delivery in shown
    assert {(row.subject_id, row.provider) for row in shown} == {
        (delivery.subject_id, delivery.provider)
    }


def test_a_bad_subject_id_on_the_deliveries_list_shows_a_message(admin_client):
    response = admin_client.get(
        DELIVERIES, {"subject_type__exact": "orders.order", "subject_id__exact": "abc"}, follow=True
    )

    assert NOT_APPLIED in page_text(response)


def test_a_subject_id_past_the_column_range_matches_nothing(admin_client):
    response = admin_client.get(
        DELIVERIES, {"subject_type__exact": "orders.order", "subject_id__exact": "9" * 30}
    )

    page_text(response)
    assert list(response.context["cl"].result_list) == []


def test_django_asks_the_admin_and_is_refused_any_lookup_not_offered(rf):
    order_admin = site._registry[Order]
    request = rf.get(ORDERS)

    assert order_admin.lookup_allowed("status__exact", "pending", request)
    assert order_admin.lookup_allowed("created_at__gte", "2024-01-01", request)
    assert not order_admin.lookup_allowed("email__regex", EVIL_REGEX, request)
    assert not order_admin.lookup_allowed("created_at__year", "2024", request)
