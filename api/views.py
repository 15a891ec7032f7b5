"""The API's endpoints: thin doors that read through selectors and write through the services
the admin calls (orders.ingest, orders.services, returns.services). Errors are raised, and
api.errors.exception_handler answers them in the one format."""

from django.http import Http404
from django.urls import reverse
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import (
    OpenApiExample,
    OpenApiResponse,
    extend_schema,
    extend_schema_view,
)
from rest_framework import status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from api import serializers as s
from api.errors import TransitionNotAllowed
from api.filters import DeliveryFilter, OrderFilter, ReturnFilter
from api.pagination import MAX_ID, KeysetPagination
from api.permissions import CanViewModel
from api.schema import (
    ERRORS_READ,
    ERRORS_WRITE,
    INGEST_EXAMPLE,
    ORDER_EXAMPLE,
    error_responses,
)
from api.selectors import orders_for_api, provider_syncs_by_order
from core.actors import Actor
from core.errors import ActionError, Conflict, TransitionRefused
from orders import services as order_services
from orders.ingest import IngestOutcome, OrderIngestSerializer, ingest_order
from orders.models import Order
from outbox.models import Delivery
from returns import services as return_services
from returns.models import Return

TIME_ORDERINGS = ("-created_at", "created_at", "-updated_at", "updated_at")


def _id_or_404(raw):
    """The id in the path, or 404 for one no row can have (the database would refuse it)."""
    # ASCII digits only: "²" is a digit to str.isdigit() but not to int().
    if not (str(raw).isascii() and str(raw).isdigit()) or not 0 < int(raw) <= MAX_ID:
        raise Http404(f"No record with id {raw}.")
    return int(raw)


class OrderReadMixin:
    """Orders as the API shows them, with each one's provider syncs and the client's actions."""

    def attach(self, orders):
        syncs = provider_syncs_by_order(orders)
        user = self.request.user
        for order in orders:
            order.api_provider_syncs = syncs[order.pk]
            order.api_actions = [t.name for t in order_services.available_actions(order, user)]
        return orders

    def order_response(self, order, status_code=status.HTTP_200_OK, headers=None):
        order = orders_for_api().get(pk=order.pk)
        data = s.OrderSerializer(self.attach([order])[0], context={"request": self.request}).data
        return Response(data, status=status_code, headers=headers)


@extend_schema_view(
    list=extend_schema(
        summary="List orders",
        description="Orders newest first (or by `ordering`), each with lines, shipments, history "
        "and per-provider sync state. Cursor pages: follow `next`.",
        responses={
            200: OpenApiResponse(s.OrderSerializer(many=True), description="A page of orders."),
            **error_responses(ERRORS_READ),
        },
    ),
    retrieve=extend_schema(
        summary="Read an order by id",
        responses={
            200: OpenApiResponse(s.OrderSerializer, description="The order."),
            **error_responses([*ERRORS_READ, 404]),
        },
        examples=[ORDER_EXAMPLE],
    ),
)
class OrderViewSet(OrderReadMixin, viewsets.GenericViewSet):
    queryset = Order.objects.all()
    serializer_class = s.OrderSerializer
    permission_classes = [CanViewModel]
    pagination_class = KeysetPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = OrderFilter
    orderings = TIME_ORDERINGS

    def get_queryset(self):
        return orders_for_api()

    def get_object(self):
        if "reference" in self.kwargs:
            lookup = {"reference": self.kwargs["reference"]}
        else:
            lookup = {"pk": _id_or_404(self.kwargs["pk"])}
        order = self.get_queryset().filter(**lookup).first()
        if order is None:
            raise Http404("No such order.")
        return order

    def list(self, request):
        queryset = self.filter_queryset(self.get_queryset())
        page = self.attach(self.paginate_queryset(queryset))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None, reference=None):
        return Response(self.get_serializer(self.attach([self.get_object()])[0]).data)

    @extend_schema(
        summary="Ingest an order",
        description="Create an order from the ingest document (docs/ingest-format.md). "
        "Idempotent on `reference`: the same document again answers 200 with the existing "
        "order; a different document with the same reference answers 409 (orders are never "
        "merged). Needs the orders.add_order permission.",
        request=OrderIngestSerializer,
        responses={
            201: OpenApiResponse(s.OrderSerializer, description="Created."),
            200: OpenApiResponse(s.OrderSerializer, description="Already there, identical."),
            **error_responses([*ERRORS_WRITE, 409, 413]),
        },
        examples=[INGEST_EXAMPLE],
    )
    def create(self, request):
        if not isinstance(request.data, dict):
            raise ActionError(
                "The body must be a JSON object: one order document.",
                field_errors={"": ["The body must be a JSON object: one order document."]},
            )
        result = ingest_order(request.data, actor=Actor.api(request.user))
        if result.outcome == IngestOutcome.REFUSED:
            if result.conflict:
                raise Conflict(result.errors[0], field_errors=result.field_errors)
            raise ValidationError(result.field_errors)
        if result.outcome == IngestOutcome.UNCHANGED:
            return self.order_response(result.order)
        location = reverse("api:order-detail", args=[result.order.pk])
        return self.order_response(result.order, status.HTTP_201_CREATED, {"Location": location})

    @extend_schema(
        summary="Request a transition",
        description="approve, hold or cancel, kept in the history and sent to 35up by the "
        "outbox. cancel and hold need a `reason` (one of the admin's, per action; `other` with "
        "the details in `message`), and the history keeps the same message the admin would: "
        '"Reason: Duplicate order. Placed twice at checkout". 400 with `field_errors.reason` '
        "listing the reasons of the action when it is missing or not one of them; 409 with "
        "`allowed` (the actions possible now) when the order's status does not allow it; 403 "
        "without the action's permission.",
        request=s.TransitionRequestSerializer,
        responses={
            200: OpenApiResponse(s.OrderSerializer, description="Done; the order as it is now."),
            **error_responses([*ERRORS_WRITE, 404, 409]),
        },
        examples=[
            OpenApiExample(
                "Approve", value={"action": "approve", "message": "Paid"}, request_only=True
            ),
            OpenApiExample(
                "Cancel",
                value={
                    "action": "cancel",
                    "reason": "duplicate",
                    "message": "Placed twice at checkout",
                },
                request_only=True,
            ),
            OpenApiExample(
                "Hold, other reason",
                value={
                    "action": "hold",
                    "reason": "other",
                    "message": "Waiting for the customer to confirm the engraving",
                },
                request_only=True,
            ),
        ],
    )
    @action(detail=True, methods=["post"])
    def transitions(self, request, pk=None):
        order = self.get_object()
        data = _validated(s.TransitionRequestSerializer, request)
        try:
            order_services.request_transition(
                order_id=order.pk,
                action=data["action"],
                actor=Actor.api(request.user),
                message=data["history_message"],
            )
        except TransitionRefused as error:
            order.refresh_from_db()
            allowed = [t.name for t in order_services.available_actions(order, request.user)]
            raise TransitionNotAllowed(error, allowed) from None
        return self.order_response(order)

    @extend_schema(
        summary="Add a shipment",
        description="A parcel: its tracking number and the order lines (and quantities) in it. "
        "A line never ships more than was ordered. The order must be approved or later.",
        request=s.ShipmentRequestSerializer,
        responses={
            201: OpenApiResponse(s.OrderSerializer, description="Added; the order with it."),
            **error_responses([*ERRORS_WRITE, 404, 409]),
        },
        examples=[
            OpenApiExample(
                "One parcel",
                value={
                    "tracking_number": "1Z999AA10123456784",
                    "carrier_code": "ups",
                    "lines": [{"line_id": 12, "quantity": 2}],
                },
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def shipments(self, request, pk=None):
        order = self.get_object()
        data = _validated(s.ShipmentRequestSerializer, request)
        order_services.add_shipment(
            order_id=order.pk,
            tracking_number=data["tracking_number"],
            lines=[(line["line_id"], line["quantity"]) for line in data["lines"]],
            actor=Actor.api(request.user),
            carrier_code=data["carrier_code"],
            shipped_at=data.get("shipped_at"),
        )
        return self.order_response(order, status.HTTP_201_CREATED)

    @extend_schema(
        summary="Request a return",
        description="Ask 35up to take back lines of a fulfilled or delivered order. Each line "
        "returns at most what was ordered less what other open or finished returns hold.",
        request=s.ReturnRequestSerializer,
        responses={
            201: OpenApiResponse(s.ReturnSerializer, description="Requested."),
            **error_responses([*ERRORS_WRITE, 404, 409]),
        },
        examples=[
            OpenApiExample(
                "One item",
                value={"reason": "Too small", "lines": [{"line_id": 12, "quantity": 1}]},
            )
        ],
    )
    @action(detail=True, methods=["post"])
    def returns(self, request, pk=None):
        order = self.get_object()
        data = _validated(s.ReturnRequestSerializer, request)
        return_request = return_services.request_return(
            order_id=order.pk,
            lines=[(line["line_id"], line["quantity"]) for line in data["lines"]],
            reason=data["reason"],
            actor=Actor.api(request.user),
        )
        return ReturnViewSet.return_response(request, return_request, status.HTTP_201_CREATED)


@extend_schema_view(
    retrieve=extend_schema(
        summary="Read an order by reference",
        responses={
            200: OpenApiResponse(s.OrderSerializer, description="The order."),
            **error_responses([*ERRORS_READ, 404]),
        },
    )
)
class OrderByReferenceView(OrderViewSet):
    """GET /orders/by-reference/{reference}/: the shop's order number instead of the id."""


@extend_schema_view(
    list=extend_schema(
        summary="List returns",
        responses={
            200: OpenApiResponse(s.ReturnSerializer(many=True), description="A page of returns."),
            **error_responses(ERRORS_READ),
        },
    ),
    retrieve=extend_schema(
        summary="Read a return",
        responses={
            200: OpenApiResponse(s.ReturnSerializer, description="The return."),
            **error_responses([*ERRORS_READ, 404]),
        },
    ),
)
class ReturnViewSet(viewsets.GenericViewSet):
    queryset = Return.objects.all()
    serializer_class = s.ReturnSerializer
    permission_classes = [CanViewModel]
    pagination_class = KeysetPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = ReturnFilter
    orderings = TIME_ORDERINGS

    @staticmethod
    def returns_for_api():
        return Return.objects.select_related("order").prefetch_related(
            "lines__order_line", "history"
        )

    def get_queryset(self):
        return self.returns_for_api()

    @staticmethod
    def attach(returns, user):
        for return_request in returns:
            return_request.api_statuses_allowed = [
                return_services.REQUESTED_35UP_STATUS[t.name].value
                for t in return_services.available_actions(return_request, user)
            ]
        return returns

    @classmethod
    def return_response(cls, request, return_request, status_code=status.HTTP_200_OK):
        return_request = cls.returns_for_api().get(pk=return_request.pk)
        cls.attach([return_request], request.user)
        return Response(s.ReturnSerializer(return_request).data, status=status_code)

    def get_object(self):
        return_request = self.get_queryset().filter(pk=_id_or_404(self.kwargs["pk"])).first()
        if return_request is None:
            raise Http404("No such return.")
        return return_request

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        self.attach(page, request.user)
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        return_request = self.attach([self.get_object()], request.user)[0]
        return Response(self.get_serializer(return_request).data)

    @extend_schema(
        summary="Set a return status",
        description="One of the statuses the shop sets itself (cancelled, customer_shipped, "
        "seller_received, seller_shipped), sent to 35up by the outbox. 409 with `allowed` (the "
        "statuses possible now) when the return's status does not allow it.",
        request=s.ReturnStatusRequestSerializer,
        responses={
            200: OpenApiResponse(s.ReturnSerializer, description="Done; the return as it is now."),
            **error_responses([*ERRORS_WRITE, 404, 409]),
        },
        examples=[OpenApiExample("Received", value={"status": "seller_received"})],
    )
    @action(detail=True, methods=["post"])
    def status(self, request, pk=None):
        return_request = self.get_object()
        data = _validated(s.ReturnStatusRequestSerializer, request)
        try:
            return_services.request_transition(
                return_id=return_request.pk,
                action=s.RETURN_STATUS_ACTIONS[data["status"]],
                actor=Actor.api(request.user),
                message=data["message"],
            )
        except TransitionRefused as error:
            return_request.refresh_from_db()
            allowed = self.attach([return_request], request.user)[0].api_statuses_allowed
            raise TransitionNotAllowed(error, allowed) from None
        return self.return_response(request, return_request)


@extend_schema_view(
    list=extend_schema(
        summary="List provider deliveries",
        description="Every provider call the hub made or will make, newest first: for "
        "integration monitoring (dead and ambiguous ones need a person). Read-only.",
        responses={
            200: OpenApiResponse(
                s.DeliverySerializer(many=True), description="A page of deliveries."
            ),
            **error_responses(ERRORS_READ),
        },
    ),
    retrieve=extend_schema(
        summary="Read a delivery",
        responses={
            200: OpenApiResponse(s.DeliverySerializer, description="The delivery."),
            **error_responses([*ERRORS_READ, 404]),
        },
    ),
)
class DeliveryViewSet(viewsets.GenericViewSet):
    queryset = Delivery.objects.all()
    serializer_class = s.DeliverySerializer
    permission_classes = [CanViewModel]
    pagination_class = KeysetPagination
    filter_backends = [DjangoFilterBackend]
    filterset_class = DeliveryFilter
    orderings = ("-id", "id")

    def get_queryset(self):
        # The stored request and response bodies stay in the admin: they may hold personal data.
        return Delivery.objects.defer("payload", "request", "response_body")

    def list(self, request):
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    def retrieve(self, request, pk=None):
        delivery = self.get_queryset().filter(pk=_id_or_404(pk)).first()
        if delivery is None:
            raise Http404("No such delivery.")
        return Response(self.get_serializer(delivery).data)


def _validated(serializer_class, request):
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data
