"""35up seller API: orders and returns (Basic auth, seller username:password). No ORM here."""

from urllib.parse import quote

from integrations.http import Provider, ProviderClient
from integrations.thirtyfiveup.mapping import parse_record, parse_records


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

    def list_orders(self, **filters):
        """GET /orders, e.g. list_orders(reference="Order74927943") to find an ambiguous POST."""
        return parse_records(self.request("GET", "/orders", params=filters or None))

    def request_return(self, payload):
        """POST /returns; never repeat blindly."""
        return parse_record(self.request("POST", "/returns", payload=payload))

    def update_return_status(self, return_id, payload):
        return parse_record(self.request("PATCH", _path("returns", return_id), payload=payload))

    def get_return(self, return_id):
        return parse_record(self.request("GET", _path("returns", return_id)))
