"""Admin lists that accept only the query parameters they offer.

Django's changelist applies any lookup on a local field that a URL names (`?email__regex=...`,
`?created_at__year=...`), so a hand-made URL can run an expensive regular expression on a large
table, or a value that fails only when the query runs (a 500). `ListParametersMixin` accepts the
parameters of the list's own filters and date hierarchy, the changelist's own (search, ordering,
paging, "show all", popups) and those a ModelAdmin names in `extra_list_parameters`. A list with
any other parameter is shown without it, with a message naming it; a filter value that cannot be
applied shows the whole list with a message (Django's `?e=1`), never a server error.
"""

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.views.main import (
    ALL_VAR,
    ERROR_FLAG,
    IS_FACETS_VAR,
    IS_POPUP_VAR,
    ORDER_VAR,
    PAGE_VAR,
    SEARCH_VAR,
    TO_FIELD_VAR,
)
from django.core.exceptions import ValidationError
from django.db import DataError
from django.http import HttpResponseRedirect

# What every changelist reads for itself; `_to_field` is checked by Django's to_field_allowed.
CHANGELIST_PARAMETERS = frozenset(
    [
        ALL_VAR,
        ORDER_VAR,
        PAGE_VAR,
        SEARCH_VAR,
        ERROR_FLAG,
        IS_FACETS_VAR,
        IS_POPUP_VAR,
        TO_FIELD_VAR,
    ]
)
# A message names at most this many parameters, each cut to this length.
MAX_NAMED = 5
MAX_NAME_LENGTH = 60
# Errors a filter value can raise when Django builds or runs the list's query.
BAD_VALUE_ERRORS = (ValueError, OverflowError, ValidationError, DataError)


def filter_parameters(request, model_admin, list_filter):
    """The query parameters one entry of `list_filter` reads, as Django's ChangeList builds it."""
    if isinstance(list_filter, type) and issubclass(list_filter, admin.SimpleListFilter):
        return {list_filter.parameter_name}
    if isinstance(list_filter, list | tuple):
        field_path, filter_class = list_filter
    else:
        field_path, filter_class = list_filter, admin.FieldListFilter.create
    field = get_fields_from_path(model_admin.model, field_path)[-1]
    spec = filter_class(field, request, {}, model_admin.model, model_admin, field_path=field_path)
    return set(spec.expected_parameters())


def short_list(names):
    shown = [
        name if len(name) <= MAX_NAME_LENGTH else f"{name[:MAX_NAME_LENGTH]}…" for name in names
    ]
    more = len(names) - MAX_NAMED
    return ", ".join(shown[:MAX_NAMED]) + (f" and {more} more" if more > 0 else "")


class ListParametersMixin:
    """Put first among a ModelAdmin's bases: `class OrderAdmin(ListParametersMixin, ModelAdmin)`."""

    # Further query parameters the list reads itself (beyond filters and the changelist's own).
    extra_list_parameters = ()

    def list_parameters(self, request):
        """Every query parameter the list accepts."""
        accepted = set(CHANGELIST_PARAMETERS) | set(self.extra_list_parameters)
        list_filter = self.get_list_filter(request) if request is not None else self.list_filter
        for entry in list_filter:
            accepted |= filter_parameters(request, self, entry)
        if self.date_hierarchy:
            accepted |= {f"{self.date_hierarchy}__{part}" for part in ("year", "month", "day")}
        return accepted

    def refused_list_parameters(self, request):
        accepted = self.list_parameters(request)
        return sorted(name for name in request.GET if name not in accepted)

    def lookup_allowed(self, lookup, value, request=None):
        # Django asks for each filter parameter; a lookup the list does not offer is refused.
        return lookup in self.list_parameters(request)

    def _refuse(self, request, refused):
        self.message_user(
            request,
            f"This list cannot be filtered by {short_list(refused)}: it offers its own filters, "
            "search and ordering only. The list is shown without it.",
            messages.ERROR,
        )

    def changelist_view(self, request, extra_context=None):
        refused = self.refused_list_parameters(request)
        if refused:
            self._refuse(request, refused)
            return self._redirect_without(request, refused)
        if ERROR_FLAG in request.GET and len(request.GET) > 1:
            # "?e=1" is Django's "the filters failed, here is everything"; with filters beside
            # it, Django would show its "database error" page: they are tried again without it.
            return self._redirect_without(request, [ERROR_FLAG])
        return super().changelist_view(request, extra_context)

    def _redirect_without(self, request, names):
        kept = request.GET.copy()
        for name in names:
            del kept[name]
        query = kept.urlencode()
        return HttpResponseRedirect(f"{request.path}?{query}" if query else request.path)

    def get_changelist_instance(self, request):
        """The changelist, or IncorrectLookupParameters with a message saying what was wrong.

        Django answers IncorrectLookupParameters with the unfiltered list (`?e=1`); views built
        on this (the CSV export) do the same. The list's count runs here, so a value that fails
        only in the database (a year past 9999) is caught here too.
        """
        refused = self.refused_list_parameters(request)
        if refused:
            self._refuse(request, refused)
            raise IncorrectLookupParameters(f"Not offered by this list: {', '.join(refused)}")
        try:
            return super().get_changelist_instance(request)
        except (IncorrectLookupParameters, *BAD_VALUE_ERRORS) as error:
            filters = [name for name in request.GET if name not in CHANGELIST_PARAMETERS]
            self.message_user(
                request,
                f"The values of {short_list(filters) or 'the list parameters'} could not be "
                "applied (a date or number out of range, or not one the filter offers). "
                "The whole list is shown.",
                messages.ERROR,
            )
            if isinstance(error, IncorrectLookupParameters):
                raise
            raise IncorrectLookupParameters(error) from error
