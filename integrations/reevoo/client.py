"""Reevoo customer orders (Basic auth, key:secret). No ORM here."""

from urllib.parse import quote

from integrations.http import ProviderClient
from integrations.providers import Provider
from integrations.reevoo.mapping import parse_submission


class ReevooClient(ProviderClient):
    provider = Provider.REEVOO

    def submit_customer_order(self, payload):
        """POST /organisations/{trkref}/customer_order; 202 with a request UUID. Not safe to
        repeat blindly: Reevoo has no idempotency key."""
        path = f"/organisations/{quote(payload['trkref'], safe='')}/customer_order"
        return parse_submission(self.request("POST", path, payload=payload))
