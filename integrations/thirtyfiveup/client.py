"""35up seller API: orders and returns (Basic auth, seller username:password). No ORM here."""

from urllib.parse import quote

from integrations.errors import PermanentProviderError
from integrations.http import ProviderClient
from integrations.providers import Provider
from integrations.thirtyfiveup.mapping import parse_record, parse_records


class ListTooLong(PermanentProviderError):
    """A list that did not end within the pages we are willing to read."""


def _path(collection, remote_id):
    return f"/{collection}/{quote(str(remote_id), safe='')}"


class ThirtyFiveUpClient(ProviderClient):
    provider = Provider.THIRTYFIVEUP

    def place_order(self, payload):
        """POST /orders?session=...; never repeat blindly (no idempotency key)."""
        params = {"session": payload["session"]} if payload.get("session") else None
        return parse_record(self.request("POST", "/orders", payload=payload, params=params))

    def update_order_status(self, order_id, payload):
        """PATCH /orders/{id} with {"status", "message"}; answered like the POST."""
        return parse_record(self.request("PATCH", _path("orders", order_id), payload=payload))

    def get_order(self, order_id):
        return parse_record(self.request("GET", _path("orders", order_id)))

    def list_orders(self, *, page_size=100, max_pages=100, **filters):
        """Every record GET /orders lists, page by page (limit/offset), filters passed along.

        35up's documents promise neither the filters nor the paging: callers check what comes
        back (the reference of each record), and the walk stops at a short or empty page, or at a
        page that brings no record not seen before (a list that ignores the offset).
        Raises ListTooLong when `max_pages` pages did not reach the end.
        """
        records, seen = [], set()
        for page in range(max_pages):
            params = {**filters, "limit": page_size, "offset": page * page_size}
            batch = parse_records(self.request("GET", "/orders", params=params))
            fresh = [record for record in batch if record.id not in seen]
            records.extend(fresh)
            seen.update(record.id for record in fresh)
            if len(batch) < page_size or not fresh:
                return records
        raise ListTooLong(
            Provider.THIRTYFIVEUP,
            f"GET /orders listed more than {max_pages} pages of {page_size}; stopped there.",
        )

    def request_return(self, payload):
        """POST /returns; never repeat blindly."""
        return parse_record(self.request("POST", "/returns", payload=payload))

    def update_return_status(self, return_id, payload):
        return parse_record(self.request("PATCH", _path("returns", return_id), payload=payload))

    def get_return(self, return_id):
        return parse_record(self.request("GET", _path("returns", return_id)))
