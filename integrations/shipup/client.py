"""Shipup API (Authorization: Bearer <private key>). No ORM here."""

from dataclasses import dataclass

from integrations.http import ProviderClient
from integrations.providers import Provider


@dataclass(frozen=True)
class ShipupOrderRef:
    """What Shipup answers about the order: its own id when the answer carries one."""

    id: str
    merchant_id: str


class ShipupClient(ProviderClient):
    provider = Provider.SHIPUP

    def upsert_order(self, payload):
        """POST /v2/orders: creates or updates the order found by merchant_id."""
        answer = self.request("POST", "/v2/orders", payload=payload) or {}
        order = answer.get("data", answer) if isinstance(answer, dict) else {}
        return ShipupOrderRef(
            id=str(order.get("id") or ""),
            merchant_id=str(order.get("merchant_id") or payload["merchant_id"]),
        )
