"""Sendcloud API v3 orders (Basic auth, public key:secret key). No ORM here."""

from urllib.parse import quote, urljoin

from integrations.errors import ProviderValidationError
from integrations.http import ProviderClient
from integrations.providers import Provider
from integrations.sendcloud.mapping import BATCH_LIMIT, parse_ref, parse_refs


class SendcloudClient(ProviderClient):
    provider = Provider.SENDCLOUD

    def upsert_orders(self, orders):
        """POST /orders/ with up to 100 orders; upserts on order_id + integration.id.

        All or nothing: one invalid order refuses the batch (validate before batching).
        """
        if not 1 <= len(orders) <= BATCH_LIMIT:
            raise ProviderValidationError(
                self.provider, f"A batch holds 1 to {BATCH_LIMIT} orders, not {len(orders)}."
            )
        return parse_refs(self.request("POST", "/orders/", payload=list(orders)))

    def list_orders(self, integration):
        """GET /orders/?integration=N, following the cursor in the Link header (rel="next")."""
        refs = []
        answer = self.request("GET", "/orders/", params={"integration": integration})
        while True:
            refs.extend(parse_refs(answer))
            next_url = self.last_exchange.links.get("next", {}).get("url")
            if not next_url:
                return refs
            answer = self.request("GET", "/orders/", url=urljoin(self.url("/orders/"), next_url))

    def get_order(self, sendcloud_id):
        answer = self.request("GET", f"/orders/{quote(str(sendcloud_id), safe='')}")
        return parse_ref(answer.get("data", answer))
