"""Query filters of the API (django-filter). Every filter a sync client pages with has an index:
status, country and created_at lead an index ending in the list's ordering; updated_at has its
own (docs/api.md)."""

import django_filters
from django import forms
from django.db.models import Exists, OuterRef

from api.pagination import MAX_ID
from api.selectors import ORDER_SUBJECT
from integrations.providers import Provider
from integrations.selectors import PROBLEM_STATES
from orders.models import Order, OrderStatus
from outbox.models import IN_FLIGHT_STATES, Delivery, DeliveryState
from returns.models import Return, ReturnStatus

RETURN_SUBJECT = Return._meta.label_lower
# What `sync_state=<provider>:<state>` asks about the order's deliveries to that provider.
SYNC_STATES = {
    "pending": "a delivery is queued or sending",
    "problem": "a delivery failed, is dead or is ambiguous",
    "synced": "a delivery succeeded, none is pending and none has a problem",
    "none": "no delivery was ever written",
}
SYNC_STATE_CHOICES = [
    (f"{provider.value}:{state}", f"{provider.label}: {meaning}")
    for provider in Provider
    for state, meaning in SYNC_STATES.items()
]


class IntegerFilter(django_filters.NumberFilter):
    field_class = forms.IntegerField


class UpperCharFilter(django_filters.CharFilter):
    def filter(self, qs, value):
        return super().filter(qs, value.upper() if value else value)


def _deliveries(subject_type, *, provider=None, states=None):
    deliveries = Delivery.objects.filter(subject_type=subject_type, subject_id=OuterRef("pk"))
    if provider:
        deliveries = deliveries.filter(provider=provider)
    if states:
        deliveries = deliveries.filter(state__in=states)
    return Exists(deliveries)


class TimeRangeFilterSet(django_filters.FilterSet):
    updated_since = django_filters.IsoDateTimeFilter(
        field_name="updated_at",
        lookup_expr="gte",
        help_text="Changed at or after this time (ISO 8601 with offset): a sync client's bookmark.",
    )
    created_after = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="gte", help_text="Created at or after this time."
    )
    created_before = django_filters.IsoDateTimeFilter(
        field_name="created_at", lookup_expr="lt", help_text="Created before this time."
    )


class OrderFilter(TimeRangeFilterSet):
    status = django_filters.MultipleChoiceFilter(
        # One column of the row itself: no join, no duplicates, so no SELECT DISTINCT (which
        # sorts the whole match on a large table).
        distinct=False,
        choices=OrderStatus.choices,
        help_text="35up status; repeat for several.",
    )
    reference = django_filters.CharFilter(help_text="The shop's order number (exact).")
    thirtyfiveup_id = django_filters.CharFilter(help_text="35up's id of the order (exact).")
    country = UpperCharFilter(
        field_name="shipping_country",
        max_length=2,
        help_text="Shipping country, ISO 3166-1 alpha-2 (any case).",
    )
    sync_state = django_filters.ChoiceFilter(
        choices=SYNC_STATE_CHOICES,
        method="filter_sync_state",
        help_text="`<provider>:<state>`, the order's deliveries to one provider: "
        + "; ".join(f"{state}: {meaning}" for state, meaning in SYNC_STATES.items())
        + ".",
    )
    has_dead_or_ambiguous = django_filters.BooleanFilter(
        method="filter_dead_or_ambiguous",
        help_text="true: orders with a dead or ambiguous delivery (a person must look); false: "
        "the others.",
    )

    class Meta:
        model = Order
        fields = []

    def filter_sync_state(self, queryset, name, value):
        provider, state = value.split(":")
        if state == "pending":
            return queryset.filter(
                _deliveries(ORDER_SUBJECT, provider=provider, states=IN_FLIGHT_STATES)
            )
        if state == "problem":
            return queryset.filter(
                _deliveries(ORDER_SUBJECT, provider=provider, states=PROBLEM_STATES)
            )
        if state == "synced":
            return queryset.filter(
                _deliveries(ORDER_SUBJECT, provider=provider, states=[DeliveryState.SUCCEEDED])
            ).exclude(
                _deliveries(
                    ORDER_SUBJECT, provider=provider, states=[*IN_FLIGHT_STATES, *PROBLEM_STATES]
                )
            )
        return queryset.exclude(_deliveries(ORDER_SUBJECT, provider=provider))

    def filter_dead_or_ambiguous(self, queryset, name, value):
        stuck = _deliveries(ORDER_SUBJECT, states=[DeliveryState.DEAD, DeliveryState.AMBIGUOUS])
        return queryset.filter(stuck) if value else queryset.exclude(stuck)


class ReturnFilter(TimeRangeFilterSet):
    status = django_filters.MultipleChoiceFilter(
        distinct=False,
        choices=ReturnStatus.choices,
        help_text="35up return status; repeat for several.",
    )
    order = django_filters.CharFilter(
        field_name="order__reference", help_text="Reference of the returned order (exact)."
    )
    thirtyfiveup_id = django_filters.CharFilter(help_text="35up's id of the return (exact).")
    has_dead_or_ambiguous = django_filters.BooleanFilter(
        method="filter_dead_or_ambiguous",
        help_text="true: returns with a dead or ambiguous delivery; false: the others.",
    )

    class Meta:
        model = Return
        fields = []

    def filter_dead_or_ambiguous(self, queryset, name, value):
        stuck = _deliveries(RETURN_SUBJECT, states=[DeliveryState.DEAD, DeliveryState.AMBIGUOUS])
        return queryset.filter(stuck) if value else queryset.exclude(stuck)


class DeliveryFilter(django_filters.FilterSet):
    provider = django_filters.ChoiceFilter(choices=Provider.choices)
    state = django_filters.MultipleChoiceFilter(
        distinct=False, choices=DeliveryState.choices, help_text="Repeat for several."
    )
    subject_type = django_filters.ChoiceFilter(
        choices=[(ORDER_SUBJECT, "An order"), (RETURN_SUBJECT, "A return")],
        help_text="What the calls are about.",
    )
    subject_id = IntegerFilter(
        min_value=1, max_value=MAX_ID, help_text="Id of the order or return (with subject_type)."
    )

    class Meta:
        model = Delivery
        fields = []
