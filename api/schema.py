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
