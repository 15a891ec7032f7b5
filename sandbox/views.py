"""HTTP doors of the fake providers and of the sandbox's control endpoints (docs/sandbox.md)."""

import json

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import JsonResponse

from . import faults, reevoo, sendcloud, shipup, thirtyfiveup
from .endpoints import Reply, control_access, provider_endpoint, sandbox_enabled
from .models import (
    SandboxFaults,
    SandboxOrder,
    SandboxReevooSubmission,
    SandboxRequest,
    SandboxSendcloudOrder,
    SandboxShipupOrder,
)
from .validation import Refused

# --- 35up -------------------------------------------------------------------------------------


def _query_number(request, name, default, limit):
    value = request.GET.get(name, "")
    if not value:
        return default
    if not value.isdigit():
        raise Refused(400, {name: "must be a whole number"})
    return min(int(value), limit)


@provider_endpoint(thirtyfiveup.API, ["GET", "POST"])
def thirtyfiveup_orders(request, method, payload):
    if method == "POST":
        order = thirtyfiveup.place_order(payload, session=request.GET.get("session", ""))
        return Reply(201, thirtyfiveup.order_summary(order))
    # 35up's documents promise no filter on this list: with ignore_list_filters the sandbox
    # honours none either, only the paging.
    config = SandboxFaults.load()
    filters = (
        {}
        if config.ignore_list_filters
        else {name: request.GET.get(name) for name in ("reference", "status")}
    )
    page_size = thirtyfiveup.LIST_LIMIT
    orders = thirtyfiveup.list_orders(
        **filters,
        limit=max(_query_number(request, "limit", page_size, page_size), 1),
        offset=_query_number(request, "offset", 0, 10**9),
    )
    with_returns = not config.omit_order_returns
    return Reply(
        200, [thirtyfiveup.order_detail(order, with_returns=with_returns) for order in orders]
    )


@provider_endpoint(thirtyfiveup.API, ["GET", "PATCH"])
def thirtyfiveup_order(request, method, payload, order_id):
    if method == "PATCH":
        order = thirtyfiveup.request_status(order_id, payload)
        return Reply(200, thirtyfiveup.order_summary(order))
    order = thirtyfiveup.catch_up(thirtyfiveup.find_order(order_id))
    # 35up's documents do not promise an order's returns: omit_order_returns leaves them out.
    with_returns = not SandboxFaults.load().omit_order_returns
    return Reply(200, thirtyfiveup.order_detail(order, with_returns=with_returns))


@provider_endpoint(thirtyfiveup.API, ["POST"])
def thirtyfiveup_returns(request, method, payload):
    sandbox_return = thirtyfiveup.create_return(payload)
    return Reply(201, thirtyfiveup.return_detail(sandbox_return))


@provider_endpoint(thirtyfiveup.API, ["GET", "PATCH"])
def thirtyfiveup_return(request, method, payload, return_id):
    if method == "PATCH":
        sandbox_return = thirtyfiveup.request_return_status(return_id, payload)
    else:
        sandbox_return = thirtyfiveup.catch_up_return(thirtyfiveup.find_return(return_id))
    return Reply(200, thirtyfiveup.return_detail(sandbox_return))


# --- Sendcloud --------------------------------------------------------------------------------


@provider_endpoint(sendcloud.API, ["GET", "POST"])
def sendcloud_orders(request, method, payload):
    if method == "POST":
        records = sendcloud.upsert_batch(payload)
        return Reply(201, {"data": [sendcloud.summary(record) for record in records]})
    page, next_cursor = sendcloud.list_page(
        request.GET, documented_filters_only=SandboxFaults.load().ignore_list_filters
    )
    reply = Reply(200, {"data": [sendcloud.detail(record) for record in page]})
    if next_cursor:
        query = request.GET.copy()
        query["cursor"] = next_cursor
        next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        reply.headers["Link"] = f'<{next_url}>; rel="next"'
    return reply


@provider_endpoint(sendcloud.API, ["GET"])
def sendcloud_order(request, method, payload, order_id):
    return Reply(200, {"data": sendcloud.detail(sendcloud.find_order(order_id))})


# --- Shipup and Reevoo ------------------------------------------------------------------------


@provider_endpoint(shipup.API, ["POST"])
def shipup_orders(request, method, payload):
    return Reply(201, shipup.order_body(shipup.upsert_order(payload)))


@provider_endpoint(reevoo.API, ["POST"])
def reevoo_customer_order(request, method, payload, trkref):
    return Reply(202, reevoo.accepted(reevoo.submit(trkref, payload)))


# --- control endpoints (never recorded, never faulted) ----------------------------------------


def _control_payload(request):
    if not request.body:
        return {}
    payload = json.loads(request.body)
    if not isinstance(payload, dict):
        raise ValueError("the body must be a JSON object")
    return payload


def _control(view):
    """JSON in and out, for the install's owner only (control_access); problems answer
    400 {"error": ...}, unknown methods 405."""

    @sandbox_enabled
    @control_access
    def control_view(request, **kwargs):
        try:
            return view(request, _control_payload(request), **kwargs)
        except ValueError as exc:
            return JsonResponse({"error": str(exc)}, status=400)
        except ValidationError as exc:
            return JsonResponse({"error": exc.message_dict}, status=400)
        except Refused as refusal:
            return JsonResponse({"error": refusal.errors}, status=refusal.status)

    return control_view


def _method_not_allowed(allowed):
    response = JsonResponse({"error": "method not allowed"}, status=405)
    response["Allow"] = ", ".join(allowed)
    return response


@_control
def control_faults(request, payload):
    if request.method == "POST":
        config = faults.configure_faults(**payload)
    elif request.method == "DELETE":
        config = faults.reset_faults()
    elif request.method == "GET":
        config = SandboxFaults.load()
    else:
        return _method_not_allowed(["GET", "POST", "DELETE"])
    return JsonResponse(faults.describe(config))


@_control
def control_advance_order(request, payload, order_id):
    if request.method != "POST":
        return _method_not_allowed(["POST"])
    order = thirtyfiveup.advance_order(order_id, payload.get("status"))
    return JsonResponse(thirtyfiveup.order_detail(order))


@_control
def control_advance_return(request, payload, return_id):
    if request.method != "POST":
        return _method_not_allowed(["POST"])
    sandbox_return = thirtyfiveup.advance_return(return_id, payload.get("status"))
    return JsonResponse(thirtyfiveup.return_detail(sandbox_return))


@_control
def control_reset(request, payload):
    """Forget every request and all provider state, and clear the faults."""
    if request.method != "POST":
        return _method_not_allowed(["POST"])
    with transaction.atomic():
        for model in (
            SandboxRequest,
            SandboxOrder,
            SandboxSendcloudOrder,
            SandboxShipupOrder,
            SandboxReevooSubmission,
        ):
            model.objects.all().delete()
        config = faults.reset_faults()
    return JsonResponse(faults.describe(config))
