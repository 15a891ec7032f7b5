"""What every fake provider endpoint does around its own work: record the request (credentials
redacted), inject the fault, check method, credentials and JSON, answer in the provider's shape."""

import base64
import binascii
import functools
import hmac
import json
from dataclasses import dataclass, field

from django.conf import settings
from django.http import Http404, JsonResponse
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from . import faults as fault_injection
from .conf import sandbox_setting
from .models import SandboxRequest
from .validation import Refused

# Headers kept on a recorded request; everything else is dropped.
KEPT_HEADERS = (
    "Content-Type",
    "Content-Length",
    "Accept",
    "User-Agent",
    "X-Request-Id",
    "Idempotency-Key",
    fault_injection.FAULT_HEADER,
)
REDACTED_HEADERS = ("Authorization", "Cookie")
REDACTED = "[redacted]"
BODY_TEXT_LIMIT = 10_000


@dataclass
class Reply:
    status: int
    body: object
    headers: dict = field(default_factory=dict)

    def response(self):
        response = JsonResponse(self.body, status=self.status, safe=False)
        for name, value in self.headers.items():
            response[name] = value
        return response


class ProviderAPI:
    """How one provider authenticates and shapes its errors; subclasses fill these in."""

    name = ""

    def authenticated(self, request):
        raise NotImplementedError

    def error(self, status, message):
        raise NotImplementedError

    def unauthorized(self):
        return self.error(401, "Invalid or missing credentials")

    def malformed(self):
        return self.error(400, "The request body is not valid JSON")

    def refused(self, refusal):
        raise NotImplementedError


def same_secret(given, expected):
    """Constant-time comparison; an unconfigured (empty) credential never matches."""
    return bool(expected) and hmac.compare_digest(given.encode(), expected.encode())


def basic_credentials(request):
    """(username, password) from a Basic Authorization header, or None."""
    scheme, _, encoded = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        return None
    username, separator, password = decoded.partition(":")
    return (username, password) if separator else None


def basic_auth_matches(request, username, password):
    credentials = basic_credentials(request)
    return credentials is not None and (
        same_secret(credentials[0], username) & same_secret(credentials[1], password)
    )


def redacted_headers(request):
    kept = {name: request.headers[name] for name in KEPT_HEADERS if request.headers.get(name)}
    kept.update({name: REDACTED for name in REDACTED_HEADERS if request.headers.get(name)})
    return kept


_NOT_JSON = object()


def _parse_body(request):
    if not request.body:
        return None
    try:
        return json.loads(request.body)
    except (ValueError, UnicodeDecodeError):
        return _NOT_JSON


def _record(request, provider, payload):
    body_is_json = payload is not _NOT_JSON
    return SandboxRequest.objects.create(
        provider=provider.name,
        method=request.method,
        path=request.get_full_path()[:2000],
        headers=redacted_headers(request),
        body=payload if body_is_json else None,
        body_text="" if body_is_json else request.body.decode(errors="replace")[:BODY_TEXT_LIMIT],
    )


def sandbox_enabled(view):
    """The whole sandbox is absent unless SANDBOX_ENABLED, even if its URLs were included."""

    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        if not settings.SANDBOX_ENABLED:
            raise Http404
        return view(request, *args, **kwargs)

    return csrf_exempt(guarded)


CONTROL_TOKEN_HEADER = "X-Sandbox-Control-Token"
CONTROL_REFUSED = (
    f"The sandbox's control endpoints need a staff session (with its CSRF token) or the "
    f"{CONTROL_TOKEN_HEADER} header with this install's SANDBOX_CONTROL_TOKEN."
)


def control_access(view):
    """Only the install's owner drives the fake providers (faults, statuses, reset): a request
    with the control token in a header, which a browser never sends cross-site, or a staff
    session, held to Django's CSRF check like any form. A wrong token is refused outright."""
    session_view = csrf_protect(view)

    @functools.wraps(view)
    def guarded(request, *args, **kwargs):
        token = request.headers.get(CONTROL_TOKEN_HEADER)
        if token is not None:
            if same_secret(token, sandbox_setting("SANDBOX_CONTROL_TOKEN")):
                return view(request, *args, **kwargs)
            return JsonResponse({"error": CONTROL_REFUSED}, status=403)
        user = getattr(request, "user", None)
        if user is None or not (user.is_active and user.is_staff):
            return JsonResponse({"error": CONTROL_REFUSED}, status=403)
        return session_view(request, *args, **kwargs)

    return guarded


def provider_endpoint(provider, methods):
    """Wrap `handler(request, method, payload, **kwargs) -> Reply` for one fake provider URL.

    `methods` lists the allowed HTTP methods; the handler gets the parsed JSON body (None when
    there is none) only after faults, credentials and JSON were dealt with.
    """

    def decorate(handler):
        @sandbox_enabled
        @functools.wraps(handler)
        def view(request, **kwargs):
            payload = _parse_body(request)
            record = _record(request, provider, payload)
            try:
                fault, config = fault_injection.fault_for(
                    provider=provider.name,
                    method=request.method,
                    header=request.headers.get(fault_injection.FAULT_HEADER, ""),
                )
            except fault_injection.UnknownFault as exc:
                fault, config = fault_injection.NO_FAULT, None
                reply = Reply(400, {"sandbox_error": str(exc)})
            else:
                reply = _handle(request, provider, methods, handler, payload, fault, config, kwargs)
            record.fault = fault.label
            record.response_status = reply.status
            record.response_body = reply.body
            record.save(update_fields=["fault", "response_status", "response_body"])
            return reply.response()

        return view

    return decorate


def _handle(request, provider, methods, handler, payload, fault, config, kwargs):
    if fault.latency_ms:
        fault_injection.pause(fault.latency_ms / 1000)
    if request.method not in methods:
        reply = provider.error(405, f"Method {request.method} not allowed")
        reply.headers["Allow"] = ", ".join(methods)
        return reply
    if fault.outcome in ("500", "503"):
        return provider.error(int(fault.outcome), "Injected fault: server error")
    if fault.outcome == "429":
        reply = provider.error(429, "Too many requests")
        reply.headers["Retry-After"] = str(config.retry_after_seconds)
        return reply
    if fault.outcome == "timeout":
        fault_injection.pause(fault_injection.timeout_seconds(config))
        return provider.error(504, "Injected fault: gateway timeout")
    if not provider.authenticated(request):
        reply = provider.unauthorized()
    elif payload is _NOT_JSON:
        reply = provider.malformed()
    else:
        try:
            reply = handler(request, request.method, payload, **kwargs)
        except Refused as refusal:
            reply = provider.refused(refusal)
    if fault.outcome == "drop":
        # The change is committed already; the client has given up before this answer.
        fault_injection.pause(fault_injection.timeout_seconds(config))
    return reply
