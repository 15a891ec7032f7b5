"""What the API shows and accepts. Reads describe the hub's records; writes describe requests,
which the views hand to the same services the admin calls (the rules live there)."""

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from api.pagination import MAX_ID
from core.errors import ActionError
from orders.models import Order, OrderLine, OrderStatus, OrderStatusChange, Shipment, ShipmentLine
from orders.services import SHOP_ACTIONS as ORDER_ACTIONS
from orders.services import TRANSITION_REASONS, reason_message
from outbox.models import Delivery, DeliveryState
from returns.models import Return, ReturnLine, ReturnStatus, ReturnStatusChange
from returns.services import REASON_MAX_LENGTH, REQUESTED_35UP_STATUS

MAX_QUANTITY = 2**31 - 1
# Lines one shipment or return request may list (an order has far fewer).
MAX_REQUEST_LINES = 500
MESSAGE_MAX_LENGTH = 2_000
# The return statuses the shop sets itself, and the service action that sets each.
RETURN_STATUS_ACTIONS = {status.value: action for action, status in REQUESTED_35UP_STATUS.items()}
SETTABLE_RETURN_STATUSES = list(RETURN_STATUS_ACTIONS)
# Every key of the cancel and hold reasons, once each ("other" serves both).
TRANSITION_REASON_KEYS = list(
    dict.fromkeys(key for reasons in TRANSITION_REASONS.values() for key, _ in reasons)
)
REASON_KEY_MAX_LENGTH = 50


class HistorySerializer(serializers.Serializer):
    from_status = serializers.CharField(help_text="Status before the change.")
    to_status = serializers.CharField(help_text="Status after the change.")
    message = serializers.CharField(help_text="Why (staff's or API client's message, or 35up's).")
    source = serializers.CharField(help_text="staff, api, provider (35up sync) or system.")
    actor = serializers.CharField(source="actor_label", help_text="Username or process.")
    unexpected = serializers.BooleanField(
        help_text="35up reported a move outside its documented graph."
    )
    at = serializers.DateTimeField(source="created_at")


class OrderHistorySerializer(HistorySerializer):
    from_status = serializers.ChoiceField(choices=OrderStatus.choices)
    to_status = serializers.ChoiceField(choices=OrderStatus.choices)

    class Meta:
        model = OrderStatusChange


class ReturnHistorySerializer(HistorySerializer):
    from_status = serializers.ChoiceField(choices=ReturnStatus.choices)
    to_status = serializers.ChoiceField(choices=ReturnStatus.choices)

    class Meta:
        model = ReturnStatusChange


class OrderLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderLine
        fields = ["id", "sku", "name", "quantity", "unit_price", "config", "thirtyfiveup_item_id"]


class ShipmentLineSerializer(serializers.ModelSerializer):
    line_id = serializers.IntegerField(source="order_line_id", help_text="The order line.")

    class Meta:
        model = ShipmentLine
        fields = ["line_id", "quantity"]


class ShipmentSerializer(serializers.ModelSerializer):
    lines = ShipmentLineSerializer(many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = ["id", "tracking_number", "carrier_code", "shipped_at", "created_at", "lines"]


class CustomerSerializer(serializers.Serializer):
    first_name = serializers.CharField()
    last_name = serializers.CharField()
    email = serializers.EmailField()
    phone = serializers.CharField()


class ShippingAddressSerializer(serializers.Serializer):
    first_name = serializers.CharField(source="shipping_first_name")
    last_name = serializers.CharField(source="shipping_last_name")
    email = serializers.EmailField(source="shipping_email")
    phone = serializers.CharField(source="shipping_phone")
    company = serializers.CharField(source="shipping_company")
    street = serializers.CharField(source="shipping_street")
    street_number = serializers.CharField(source="shipping_street_number")
    extra = serializers.CharField(source="shipping_extra")
    city = serializers.CharField(source="shipping_city")
    postcode = serializers.CharField(source="shipping_postcode")
    state = serializers.CharField(source="shipping_state", help_text="ISO 3166-2 without prefix.")
    country = serializers.CharField(source="shipping_country.code", help_text="ISO 3166-1.")


class ProviderSyncSerializer(serializers.Serializer):
    provider = serializers.CharField(help_text="35up, sendcloud, shipup or reevoo.")
    label = serializers.CharField()
    enabled = serializers.BooleanField(help_text="False when the hub lacks its settings.")
    missing_settings = serializers.ListField(child=serializers.CharField())
    remote_id = serializers.CharField(help_text="The order's id at the provider, if it has one.")
    last_success_at = serializers.DateTimeField(
        allow_null=True, help_text="When a delivery to the provider last succeeded."
    )
    pending = serializers.IntegerField(help_text="Deliveries queued or sending.")
    last_problem_state = serializers.ChoiceField(
        choices=DeliveryState.choices,
        allow_blank=True,
        help_text="State of the latest failed, dead or ambiguous delivery (empty: none).",
    )
    last_problem_error = serializers.CharField(help_text="Its error, as the provider said it.")
    last_problem_at = serializers.DateTimeField(allow_null=True)


class OrderSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=OrderStatus.choices, help_text="35up order status.")
    customer = CustomerSerializer(source="*")
    shipping_address = ShippingAddressSerializer(source="*")
    lines = OrderLineSerializer(many=True)
    shipments = ShipmentSerializer(many=True)
    provider_syncs = ProviderSyncSerializer(
        many=True, source="api_provider_syncs", help_text="Where the order stands per provider."
    )
    history = OrderHistorySerializer(many=True, help_text="Status changes, oldest first.")
    actions = serializers.ListField(
        child=serializers.ChoiceField(choices=ORDER_ACTIONS),
        source="api_actions",
        help_text="Transitions this client may request now (POST .../transitions/).",
    )

    class Meta:
        model = Order
        fields = [
            "id",
            "reference",
            "status",
            "status_unexpected",
            "thirtyfiveup_id",
            "thirtyfiveup_updated_at",
            "session",
            "currency",
            "language",
            "ordered_at",
            "created_at",
            "updated_at",
            "customer",
            "shipping_address",
            "lines",
            "shipments",
            "provider_syncs",
            "history",
            "actions",
        ]
        read_only_fields = fields


class ReturnLineSerializer(serializers.ModelSerializer):
    line_id = serializers.IntegerField(source="order_line_id", help_text="The order line.")
    sku = serializers.CharField(source="order_line.sku")

    class Meta:
        model = ReturnLine
        fields = ["id", "line_id", "sku", "quantity", "thirtyfiveup_item_id"]


class ReturnSerializer(serializers.ModelSerializer):
    status = serializers.ChoiceField(choices=ReturnStatus.choices, help_text="35up return status.")
    order_id = serializers.IntegerField()
    order_reference = serializers.CharField(source="order.reference")
    requested_by = serializers.CharField(source="requested_by_label")
    lines = ReturnLineSerializer(many=True)
    history = ReturnHistorySerializer(many=True, help_text="Status changes, oldest first.")
    statuses_allowed = serializers.ListField(
        child=serializers.ChoiceField(choices=SETTABLE_RETURN_STATUSES),
        source="api_statuses_allowed",
        help_text="Statuses this client may set now (POST .../status/).",
    )

    class Meta:
        model = Return
        fields = [
            "id",
            "order_id",
            "order_reference",
            "status",
            "status_unexpected",
            "items_released",
            "thirtyfiveup_id",
            "thirtyfiveup_updated_at",
            "reason",
            "requested_by",
            "created_at",
            "updated_at",
            "lines",
            "history",
            "statuses_allowed",
        ]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    state = serializers.ChoiceField(choices=DeliveryState.choices)

    class Meta:
        model = Delivery
        fields = [
            "id",
            "provider",
            "operation",
            "subject_type",
            "subject_id",
            "target",
            "state",
            "attempts",
            "may_have_reached",
            "next_attempt_at",
            "last_status_code",
            "error",
            "duration_ms",
            "created_by",
            "created_at",
            "updated_at",
            "finished_at",
        ]
        read_only_fields = fields


# Requests


def _reasons_described():
    """The reasons of each action, as the schema shows them."""
    return " ".join(
        f"For {action}: " + "; ".join(f"`{key}` = {words}" for key, words in reasons) + "."
        for action, reasons in TRANSITION_REASONS.items()
    )


@extend_schema_field({"type": "string", "enum": TRANSITION_REASON_KEYS})
class TransitionReasonField(serializers.CharField):
    """A reason key; which keys an action takes is checked with the action (reason_message)."""


class TransitionRequestSerializer(serializers.Serializer):
    """The admin's transition form as JSON: the same reasons, the same history message."""

    action = serializers.ChoiceField(choices=ORDER_ACTIONS, help_text="approve, hold or cancel.")
    reason = TransitionReasonField(
        max_length=REASON_KEY_MAX_LENGTH,
        required=False,
        allow_blank=True,
        help_text="Why, as one of the reasons the admin offers: required for cancel and hold, "
        f"refused for approve. {_reasons_described()} The history records "
        '"Reason: <its words>." followed by `message`.',
    )
    message = serializers.CharField(
        max_length=MESSAGE_MAX_LENGTH,
        required=False,
        allow_blank=True,
        default="",
        help_text="Details, kept in the history after the reason's words; required when "
        "`reason` is `other` (then it is the reason). For approve, the whole message (e.g. "
        "'Paid').",
    )

    def validate(self, data):
        action, reason = data["action"], data.get("reason", "")
        if action not in TRANSITION_REASONS and reason:
            raise serializers.ValidationError(
                {"reason": [f"{action} takes no reason: say why in `message`."]}
            )
        try:
            data["history_message"] = reason_message(action, reason, data["message"])
        except ActionError as error:
            raise serializers.ValidationError(error.field_errors) from None
        return data


class RequestLineSerializer(serializers.Serializer):
    line_id = serializers.IntegerField(min_value=1, max_value=MAX_ID, help_text="An order line.")
    quantity = serializers.IntegerField(min_value=1, max_value=MAX_QUANTITY)


class ShipmentRequestSerializer(serializers.Serializer):
    tracking_number = serializers.CharField(max_length=100)
    carrier_code = serializers.CharField(
        max_length=50, required=False, allow_blank=True, default=""
    )
    shipped_at = serializers.DateTimeField(required=False, help_text="Default: now.")
    lines = serializers.ListField(
        child=RequestLineSerializer(), min_length=1, max_length=MAX_REQUEST_LINES
    )


class ReturnRequestSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)
    lines = serializers.ListField(
        child=RequestLineSerializer(), min_length=1, max_length=MAX_REQUEST_LINES
    )


class ReturnStatusRequestSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=SETTABLE_RETURN_STATUSES, help_text="A status the shop sets itself."
    )
    message = serializers.CharField(
        max_length=MESSAGE_MAX_LENGTH, required=False, allow_blank=True, default=""
    )


class ErrorSerializer(serializers.Serializer):
    """The one error format of every endpoint."""

    code = serializers.CharField(
        help_text="Stable machine-readable code: invalid, action_refused, not_authenticated, "
        "authentication_failed, permission_denied, not_found, method_not_allowed, "
        "unsupported_media_type, conflict, transition_refused, request_too_large, throttled, "
        "parse_error, server_error."
    )
    message = serializers.CharField(help_text="What went wrong, for a person.")
    field_errors = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()),
        help_text='Problems per input path ("lines[0].quantity"); "" for the body as a whole.',
    )
    allowed = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="On a refused transition: the actions (or return statuses) allowed now.",
    )
