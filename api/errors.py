"""One error format for every API answer, and the one place where service errors become HTTP.

    {"code": "transition_refused", "message": "Order X is approved: it cannot be approved.",
     "field_errors": {"lines[0].quantity": ["Ensure this value is greater than or equal to 1."]},
     "allowed": ["hold", "cancel"]}

`field_errors` is always there (empty when the problem belongs to no field; "" holds problems of
the body as a whole); `allowed` only on a refused transition.
"""

import logging

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from core.errors import ActionError, Conflict, PermissionRefused, TransitionRefused
from core.nested import error_paths, lines_from_paths

logger = logging.getLogger(__name__)

SERVER_ERROR_MESSAGE = "The hub failed to answer this request; the error has been logged."


class TransitionNotAllowed(Exception):
    """A refused transition together with the transitions that the client may request now."""

    def __init__(self, error: TransitionRefused, allowed):
        super().__init__(error.message)
        self.error = error
        self.allowed = list(allowed)


def error_body(code, message, field_errors=None, **extra):
    return {"code": code, "message": message, "field_errors": field_errors or {}, **extra}


def _service_error(exc):
    """(HTTP status, code) of a service's refusal."""
    if isinstance(exc, PermissionRefused):
        return status.HTTP_403_FORBIDDEN, "permission_denied"
    if isinstance(exc, TransitionRefused):
        return status.HTTP_409_CONFLICT, "transition_refused"
    if isinstance(exc, Conflict):
        return status.HTTP_409_CONFLICT, "conflict"
    return status.HTTP_400_BAD_REQUEST, "action_refused"


def _validation_message(field_errors):
    lines = lines_from_paths(field_errors)
    if not lines:
        return "The request is not valid."
    more = f" (and {len(lines) - 1} more)" if len(lines) > 1 else ""
    return f"{lines[0]}{more}"


def _api_error(exc):
    """(status, body, headers) of a DRF exception."""
    headers = {}
    if getattr(exc, "auth_header", None):
        headers["WWW-Authenticate"] = exc.auth_header
    if getattr(exc, "wait", None) is not None:
        headers["Retry-After"] = str(max(1, int(exc.wait + 0.999)))
    if isinstance(exc, exceptions.ValidationError):
        field_errors = error_paths(exc.detail)
        # DRF puts errors of the body as a whole under "non_field_errors"; ours sit under "".
        if "non_field_errors" in field_errors:
            field_errors.setdefault("", []).extend(field_errors.pop("non_field_errors"))
        body = error_body("invalid", _validation_message(field_errors), field_errors)
        return exc.status_code, body, headers
    code = exc.default_code
    detail = exc.detail
    if isinstance(detail, str) and getattr(detail, "code", None):
        code = detail.code
    message = str(detail) if isinstance(detail, str) else _validation_message(error_paths(detail))
    return exc.status_code, error_body(code, message), headers


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: every exception of every API view answers in the one format."""
    headers = {}
    if isinstance(exc, TransitionNotAllowed):
        status_code = status.HTTP_409_CONFLICT
        body = error_body(
            "transition_refused", exc.error.message, exc.error.field_errors, allowed=exc.allowed
        )
    elif isinstance(exc, ActionError):
        status_code, code = _service_error(exc)
        body = error_body(code, exc.message, exc.field_errors)
    elif isinstance(exc, Http404 | ObjectDoesNotExist):
        status_code = status.HTTP_404_NOT_FOUND
        body = error_body("not_found", str(exc) or "Not found.")
    elif isinstance(exc, DjangoPermissionDenied):
        status_code = status.HTTP_403_FORBIDDEN
        body = error_body("permission_denied", str(exc) or "You may not do this.")
    elif isinstance(exc, exceptions.APIException):
        status_code, body, headers = _api_error(exc)
    else:
        logger.exception("API request failed", exc_info=exc)
        status_code = status.HTTP_500_INTERNAL_SERVER_ERROR
        body = error_body("server_error", SERVER_ERROR_MESSAGE)
    set_rollback()
    return Response(body, status=status_code, headers=headers)


@csrf_exempt
def not_found(request, *args, **kwargs):
    """A path under /api/ that names no endpoint: the same format, not Django's HTML page."""
    return JsonResponse(error_body("not_found", f"No API endpoint at {request.path}."), status=404)
