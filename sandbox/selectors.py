"""Reads over what the sandbox received and holds, for tests and the demo."""

from .models import (
    SandboxOrder,
    SandboxReevooSubmission,
    SandboxRequest,
    SandboxReturn,
    SandboxSendcloudOrder,
    SandboxShipupOrder,
)


def received(provider, *, method=None, path_contains=None):
    """Requests one fake provider received, oldest first."""
    requests = SandboxRequest.objects.filter(provider=provider)
    if method:
        requests = requests.filter(method=method.upper())
    if path_contains:
        requests = requests.filter(path__contains=path_contains)
    return requests


def thirtyfiveup_orders(reference=None):
    orders = SandboxOrder.objects.prefetch_related("items", "history")
    return orders if reference is None else orders.filter(reference=reference)


def thirtyfiveup_returns(order_id=None):
    """35up returns, of one 35up order (its public id) when given."""
    returns = SandboxReturn.objects.select_related("order").prefetch_related("items", "history")
    return returns if order_id is None else returns.filter(order__public_id=order_id)


def sendcloud_orders(order_id=None):
    orders = SandboxSendcloudOrder.objects.all()
    return orders if order_id is None else orders.filter(order_id=order_id)


def shipup_order(merchant_id):
    """The merged state Shipup holds for one order, or None."""
    record = SandboxShipupOrder.objects.filter(merchant_id=merchant_id).first()
    return None if record is None else record.payload


def reevoo_submissions(order_ref=None):
    submissions = SandboxReevooSubmission.objects.all()
    return submissions if order_ref is None else submissions.filter(order_ref=order_ref)
