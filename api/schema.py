"""What the OpenAPI schema says beyond the serializers: the error answers of each endpoint and
the examples (drf-spectacular)."""

from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from api.serializers import ErrorSerializer

ERROR_DESCRIPTIONS = {
    400: "Invalid request: `field_errors` says which input is wrong (code invalid, "
    "action_refused or parse_error).",
    401: "No or an unknown token (code not_authenticated or authentication_failed).",
    403: "The client's user lacks the permission (code permission_denied).",
    404: "No such record (code not_found).",
    409: "Conflict: the reference exists with other content, the transition is not possible in "
    "the current status (code transition_refused, with `allowed`), or someone else changed "
    "the record at the same moment (code conflict).",
    413: "The body is larger than API_MAX_BODY_BYTES (code request_too_large).",
    415: "The body is not JSON (code unsupported_media_type).",
    429: "Too many requests from this client: wait Retry-After seconds (code throttled).",
}
ERRORS_READ = [400, 401, 403, 429]
ERRORS_WRITE = [400, 401, 403, 415, 429]

ERROR_EXAMPLES = {
    400: {
        "code": "invalid",
        "message": "lines[0].quantity: Ensure this value is greater than or equal to 1.",
        "field_errors": {"lines[0].quantity": ["Ensure this value is greater than or equal to 1."]},
    },
    401: {
        "code": "not_authenticated",
        "message": "Authentication credentials were not provided.",
        "field_errors": {},
    },
    403: {
        "code": "permission_denied",
        "message": "You do not have permission to approve orders.",
        "field_errors": {},
    },
    404: {"code": "not_found", "message": "No such order.", "field_errors": {}},
    409: {
        "code": "transition_refused",
        "message": "Order Order74927943 is approved: it cannot be approved.",
        "field_errors": {},
        "allowed": ["hold", "cancel"],
    },
    413: {
        "code": "request_too_large",
        "message": "The request body is larger than 1048576 bytes.",
        "field_errors": {},
    },
    415: {
        "code": "unsupported_media_type",
        "message": 'Unsupported media type "text/plain" in request.',
        "field_errors": {},
    },
    429: {
        "code": "throttled",
        "message": "Request was throttled. Expected available in 12 seconds.",
        "field_errors": {},
    },
}


def error_responses(codes):
    return {
        code: OpenApiResponse(
            ErrorSerializer,
            description=ERROR_DESCRIPTIONS[code],
            examples=[
                OpenApiExample(
                    f"{code}",
                    value=ERROR_EXAMPLES[code],
                    status_codes=[str(code)],
                    response_only=True,
                )
            ],
        )
        for code in codes
    }


INGEST_DOCUMENT = {
    "reference": "Order74927943",
    "session": "123abc",
    "currency": "USD",
    "language": "en",
    "ordered_at": "2026-11-20T10:00:00Z",
    "customer": {
        "first_name": "Jeffrey",
        "last_name": "Bazos",
        "email": "jeffrey@nile.com",
        "phone": "001384859590",
    },
    "shipping_address": {
        "company": "Nile",
        "street": "Monopoly Street",
        "street_number": "66",
        "extra": "Top Floor",
        "city": "Seattle",
        "postcode": "98121",
        "state": "WA",
        "country": "US",
    },
    "lines": [
        {
            "sku": "caseable/HC12PXX127030XXAPIP2P",
            "name": "Hard case",
            "quantity": 2,
            "unit_price": "29.99",
            "config": {"size": "45", "color": "black"},
        }
    ],
}
INGEST_EXAMPLE = OpenApiExample("An order", value=INGEST_DOCUMENT, request_only=True)

ORDER_EXAMPLE = OpenApiExample(
    "An approved order",
    response_only=True,
    value={
        "id": 51,
        "reference": "Order74927943",
        "status": "approved",
        "status_unexpected": False,
        "thirtyfiveup_id": "3f1c2b9e",
        "thirtyfiveup_updated_at": "2026-11-20T10:05:00Z",
        "session": "123abc",
        "currency": "USD",
        "language": "en",
        "ordered_at": "2026-11-20T10:00:00Z",
        "created_at": "2026-11-20T10:00:01.120000Z",
        "updated_at": "2026-11-20T10:07:30.410000Z",
        "customer": {
            "first_name": "Jeffrey",
            "last_name": "Bazos",
            "email": "jeffrey@nile.com",
            "phone": "001384859590",
        },
        "shipping_address": {
            "first_name": "Jeffrey",
            "last_name": "Bazos",
            "email": "jeffrey@nile.com",
            "phone": "001384859590",
            "company": "Nile",
            "street": "Monopoly Street",
            "street_number": "66",
            "extra": "Top Floor",
            "city": "Seattle",
            "postcode": "98121",
            "state": "WA",
            "country": "US",
        },
        "lines": [
            {
                "id": 101,
                "sku": "caseable/HC12PXX127030XXAPIP2P",
                "name": "Hard case",
                "quantity": 2,
                "unit_price": "29.99",
                "config": {"size": "45", "color": "black"},
                "thirtyfiveup_item_id": "v-881",
            }
        ],
        "shipments": [],
        "provider_syncs": [
            {
                "provider": "35up",
                "label": "35up",
                "enabled": True,
                "missing_settings": [],
                "remote_id": "3f1c2b9e",
                "last_success_at": "2026-11-20T10:07:31Z",
                "pending": 0,
                "last_problem_state": "",
                "last_problem_error": "",
                "last_problem_at": None,
            }
        ],
        "history": [
            {
                "from_status": "new",
                "to_status": "new",
                "message": "Order received.",
                "source": "api",
                "actor": "checkout",
                "unexpected": False,
                "at": "2026-11-20T10:00:01.120000Z",
            },
            {
                "from_status": "pending",
                "to_status": "approved",
                "message": "Paid",
                "source": "api",
                "actor": "checkout",
                "unexpected": False,
                "at": "2026-11-20T10:07:30.400000Z",
            },
        ],
        "actions": ["hold", "cancel"],
    },
)


# Descriptions of the schema's properties that carry none of their own (model fields without
# help_text, and the ingest format's serializers in orders/ingest.py), by property name (a name
# means the same thing wherever it appears) or, where it does not, by "Component.property".
# `describe_every_field` fills them in.
FIELD_DESCRIPTIONS = {
    "id": "The hub's id of the record.",
    "reference": "The shop's order number, unique; repeating it is idempotent (docs/api.md).",
    "session": "35up recommendation session, if the shop has one.",
    "currency": "ISO 4217 code (USD, EUR, GBP, ...).",
    "language": "ISO 639-1 code of the customer's language (default en).",
    "ordered_at": "When the customer ordered (ISO 8601; default: when the hub received it).",
    "created_at": "When the hub created the record.",
    "updated_at": "When the record last changed in the hub (the sync bookmark).",
    "finished_at": "When the delivery reached a final state.",
    "next_attempt_at": "When the outbox sends it next, if it is still to be sent.",
    "shipped_at": "When the parcel left (ISO 8601; default: now).",
    "at": "When the change happened.",
    "last_problem_at": "When that delivery last changed.",
    "from_status": "Status before the change.",
    "to_status": "Status after the change.",
    "thirtyfiveup_id": "35up's id of the record, once 35up has it.",
    "customer": "Who ordered.",
    "shipping_address": "Where the order goes; names, email and phone default to the customer's.",
    "first_name": "First name.",
    "last_name": "Last name.",
    "email": "Email address.",
    "phone": "Phone number, as the customer gave it.",
    "company": "Company, if any.",
    "street": "Street.",
    "street_number": "House number.",
    "extra": "Address line 2 (floor, apartment).",
    "city": "City.",
    "postcode": "Postal code.",
    "state": "ISO 3166-2 subdivision without the country prefix (WA, QC, NSW); required for US, "
    "CA and AU.",
    "country": "ISO 3166-1 alpha-2 code.",
    "lines": "The lines (at least one).",
    "shipments": "Parcels sent, with the lines in each.",
    "sku": "The product's SKU at 35up (vendor/product).",
    "name": "Product name, as the customer saw it.",
    "quantity": "How many.",
    "unit_price": "Price of one, a decimal string with at most two places.",
    "config": "Product options as strings (size, colour).",
    "tracking_number": "The carrier's tracking number; unique per order.",
    "carrier_code": "The carrier (ups, dhl, ...).",
    "order_id": "Id of the order.",
    "order_reference": "Reference of the order.",
    "requested_by": "Who requested the return (username or process).",
    "reason": "Why the customer returns the items.",
    "message": "Why, kept in the history.",
    "label": "The provider's name for people.",
    "missing_settings": "Settings the hub lacks to send to this provider (empty when enabled).",
    "provider": "The provider: 35up, sendcloud, shipup or reevoo.",
    "operation": "What the call does (place_order, push_order, update_order_status, ...).",
    "subject_id": "Id of the order or return the call is about.",
    "Delivery.state": "Where the delivery stands.",
    "attempts": "Attempts made so far.",
    "last_status_code": "HTTP status of the last answer, if one came.",
    "error": "The provider's or the network's error of the last attempt.",
    "duration_ms": "How long the last attempt took.",
    "created_by": "Who or what caused the delivery.",
    "results": "The records of this page.",
}


def describe_every_field(result, generator, request, public):
    """drf-spectacular postprocessing hook: every property says what it is."""
    for component_name, component in result.get("components", {}).get("schemas", {}).items():
        properties = component.get("properties", {})
        for name, spec in properties.items():
            description = FIELD_DESCRIPTIONS.get(f"{component_name}.{name}") or (
                FIELD_DESCRIPTIONS.get(name)
            )
            if spec.get("description") or not description:
                continue
            if "$ref" in spec:
                # OpenAPI 3.0 ignores siblings of $ref: the description goes beside an allOf.
                properties[name] = {"allOf": [{"$ref": spec.pop("$ref")}], **spec}
            properties[name]["description"] = description
    return result
