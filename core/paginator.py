"""Pagination for lists that may hold millions of rows."""

from functools import cached_property

from django.conf import settings
from django.core.paginator import Paginator


class CappedCountPaginator(Paginator):
    """Counts at most `count_limit` (default ORDER_LIST_COUNT_LIMIT) + 1 rows, never the table.

    `qs[:n].count()` runs `SELECT COUNT(*) FROM (... LIMIT n)`, which stops after n index entries,
    where a plain COUNT(*) reads every matching row. Beyond the limit the count stays at the limit,
    `count_is_capped` says so, and pages past it are not offered: narrow the list to see them.
    """

    def __init__(self, object_list, per_page, *args, count_limit=None, **kwargs):
        super().__init__(object_list, per_page, *args, **kwargs)
        self.count_limit = count_limit or settings.ORDER_LIST_COUNT_LIMIT

    @cached_property
    def _bounded_count(self):
        return self.object_list[: self.count_limit + 1].count()

    @cached_property
    def count(self):
        return min(self._bounded_count, self.count_limit)

    @property
    def count_is_capped(self):
        return self._bounded_count > self.count_limit

    @property
    def count_label(self):
        """The count for people: "10,000+" once capped, so a list never shows a wrong total."""
        return f"{self.count:,}+" if self.count_is_capped else f"{self.count:,}"
