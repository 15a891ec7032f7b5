"""Cursor pagination on (ordering field, id): a page is "the next N rows after this one", read in
index order, so it costs the same on the first page and the ten-thousandth, and rows inserted
meanwhile never shift a page (no offsets anywhere).

The cursor is opaque to clients: base64 of the ordering and the last row's (value, id).
"""

import base64
import binascii
import json
from datetime import datetime

from django.conf import settings
from django.db.models import Q
from rest_framework.exceptions import ValidationError
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

CURSOR_PARAM = "cursor"
PAGE_SIZE_PARAM = "page_size"
ORDERING_PARAM = "ordering"
# Cursors and ids beyond this are not ours (the largest BigAutoField).
MAX_ID = 2**63 - 1


def encode_cursor(ordering, value, pk):
    """The cursor of the page that starts after the row with (value, pk) in `ordering`."""
    position = {
        "o": ordering,
        "v": value.isoformat() if isinstance(value, datetime) else value,
        "id": pk,
    }
    return base64.urlsafe_b64encode(json.dumps(position).encode()).decode().rstrip("=")


def _invalid(param, message):
    return ValidationError({param: [message]})


class KeysetPagination(BasePagination):
    """The view names its orderings (`orderings`, each an indexed field with "-" for descending)
    and the default one (`orderings[0]`); `id` breaks ties."""

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self._page_size(request)
        self.ordering = self._ordering(request, view)
        field = self.ordering.lstrip("-")
        descending = self.ordering.startswith("-")
        if field == "id":
            queryset = queryset.order_by(self.ordering)
        else:
            queryset = queryset.order_by(self.ordering, "-id" if descending else "id")
        cursor = request.query_params.get(CURSOR_PARAM)
        if cursor:
            queryset = queryset.filter(self._after(field, descending, *self._decode(cursor, field)))
        rows = list(queryset[: self.page_size + 1])
        self.has_next = len(rows) > self.page_size
        rows = rows[: self.page_size]
        self.last = rows[-1] if rows else None
        self.field = field
        return rows

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "results": data})

    def get_next_link(self):
        if not self.has_next:
            return None
        token = encode_cursor(self.ordering, getattr(self.last, self.field), self.last.pk)
        url = self.request.build_absolute_uri()
        url = replace_query_param(url, CURSOR_PARAM, token)
        return replace_query_param(url, ORDERING_PARAM, self.ordering)

    def get_previous_link(self):
        return None

    def _page_size(self, request):
        raw = request.query_params.get(PAGE_SIZE_PARAM)
        if raw is None:
            return settings.API_PAGE_SIZE
        maximum = settings.API_MAX_PAGE_SIZE
        if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= maximum:
            raise _invalid(PAGE_SIZE_PARAM, f"A whole number from 1 to {maximum}.")
        return int(raw)

    def _ordering(self, request, view):
        ordering = request.query_params.get(ORDERING_PARAM) or view.orderings[0]
        if ordering not in view.orderings:
            raise _invalid(ORDERING_PARAM, f"One of: {', '.join(view.orderings)}.")
        return ordering

    def _decode(self, cursor, field):
        """(value, id) of the row the page starts after; a cursor of another ordering, or one
        that was not written by us, is refused."""
        try:
            padded = cursor + "=" * (-len(cursor) % 4)
            position = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
            ordering, value, pk = position["o"], position["v"], position["id"]
            if ordering != self.ordering or not isinstance(pk, int) or not 0 < pk <= MAX_ID:
                raise ValueError("cursor of another ordering")
            if field == "id":
                value = pk
            else:
                value = datetime.fromisoformat(value)
                if value.tzinfo is None:
                    raise ValueError("naive time")
        except (ValueError, TypeError, KeyError, binascii.Error, UnicodeError):
            raise _invalid(
                CURSOR_PARAM,
                "Not a cursor of this list and ordering: use the `next` link as given.",
            ) from None
        return value, pk

    @staticmethod
    def _after(field, descending, value, pk):
        """Rows after (value, pk) in the ordering: the index range on `field` first, then the
        tie-break on id among rows with the same value."""
        if field == "id":
            return Q(id__lt=pk) if descending else Q(id__gt=pk)
        if descending:
            return Q(**{f"{field}__lte": value}) & (Q(**{f"{field}__lt": value}) | Q(id__lt=pk))
        return Q(**{f"{field}__gte": value}) & (Q(**{f"{field}__gt": value}) | Q(id__gt=pk))

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["next", "results"],
            "properties": {
                "next": {
                    "type": "string",
                    "nullable": True,
                    "format": "uri",
                    "description": "The next page (same filters and ordering); null on the last.",
                },
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": CURSOR_PARAM,
                "in": "query",
                "required": False,
                "description": "Opaque position from a `next` link; never build one yourself.",
                "schema": {"type": "string"},
            },
            {
                "name": PAGE_SIZE_PARAM,
                "in": "query",
                "required": False,
                "description": f"Results per page (default {settings.API_PAGE_SIZE}, at most "
                f"{settings.API_MAX_PAGE_SIZE}).",
                "schema": {"type": "integer", "minimum": 1, "maximum": settings.API_MAX_PAGE_SIZE},
            },
            {
                "name": ORDERING_PARAM,
                "in": "query",
                "required": False,
                "description": "Sort order; `-` means newest first. Sync clients page by "
                "`updated_at` with `updated_since` (docs/api.md).",
                "schema": {"type": "string", "enum": list(view.orderings)},
            },
        ]
