"""One exception family for every provider call (DESIGN.md "Providers", "Reliable delivery").

Each error says whether a retry may help, the HTTP status, the provider's own message as readable
lines, and whether the request may have reached the provider: the outbox must not blindly repeat
a POST that is unsafe to repeat once it may have been received.
"""

from datetime import UTC, datetime
from email.utils import parsedate_to_datetime

from core.nested import flatten_errors
from outbox.errors import DeliveryError


class ProviderError(DeliveryError):
    """A provider call that did not succeed. `details` are the provider's own lines; what the
    outbox engine reads (retryable, outcome_unknown, throttled) comes from DeliveryError."""

    def __init__(
        self,
        provider,
        message,
        *,
        status=None,
        details=(),
        retry_after=None,
        request=None,
        response_body="",
    ):
        self.provider = str(provider)
        self.details = list(details)
        super().__init__(
            message,
            status=status,
            retry_after=retry_after,
            request=request,
            response_body=response_body,
        )

    @property
    def text(self):
        head = f"{self.provider}: {self.message}"
        return "\n".join([head, *self.details]) if self.details else head


class RetryableProviderError(ProviderError):
    """Worth another attempt later: 5xx, 408, 409, 429, timeouts, connection errors."""

    retryable = True


class ProviderUnreachable(RetryableProviderError):
    """No connection was made (DNS, refused, connect timeout): the request was never sent."""

    may_have_reached = False


class ProviderNoAnswer(RetryableProviderError):
    """The request was sent but no answer came (read timeout, connection dropped)."""

    outcome_unknown = True


class ProviderRateLimited(RetryableProviderError):
    """429 from the provider: it refused to look at the request."""

    may_have_reached = False


class ProviderThrottled(ProviderRateLimited):
    """Our own limiter has no free slot yet: nothing was sent. The outbox waits `retry_after`
    seconds and does not count the attempt."""

    throttled = True


class ProviderBadAnswer(ProviderError):
    """A success status whose body we cannot read: the provider did act on the request."""

    may_have_reached = True

    outcome_unknown = True


class PermanentProviderError(ProviderError):
    """Repeating the same request cannot help: 4xx other than 408/409/429, or an invalid payload."""

    may_have_reached = False


class ProviderValidationError(PermanentProviderError):
    """We refused to send: the payload would break the provider's rules."""

    sent = False


class ProviderDisabled(PermanentProviderError):
    """The provider's credentials are not configured."""

    sent = False


def retry_after_seconds(value, now=None):
    """Retry-After as seconds: delta-seconds or an HTTP date; None when absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def thirtyfiveup_error_lines(body):
    """35up: 400 with `errors` keyed by field, nested like the request (`items[0].sku: ...`)."""
    if isinstance(body, dict) and "errors" in body:
        return flatten_errors(body["errors"])
    return _message_lines(body)


def sendcloud_error_lines(body):
    """Sendcloud JSON:API: errors[{status, code, title, detail, source{pointer}}]."""
    if not isinstance(body, dict) or not isinstance(body.get("errors"), list):
        return _message_lines(body)
    lines = []
    for error in body["errors"]:
        if not isinstance(error, dict):
            lines.append(str(error))
            continue
        pointer = (error.get("source") or {}).get("pointer") or ""
        detail = error.get("detail") or error.get("title") or "error"
        code = error.get("code")
        line = f"{pointer}: {detail}" if pointer else str(detail)
        lines.append(f"{line} ({code})" if code else line)
    return lines


def shipup_error_lines(body):
    """Shipup: nested `errors`, e.g. `fulfillments[0].trackers[1].tracking_number: Wrong ...`."""
    if isinstance(body, dict) and "errors" in body:
        return flatten_errors(body["errors"])
    return _message_lines(body)


def reevoo_error_lines(body):
    """Reevoo: {status, message, errors[]}."""
    if not isinstance(body, dict):
        return _message_lines(body)
    lines = [str(body["message"])] if body.get("message") else []
    errors = body.get("errors") or []
    lines.extend(flatten_errors(errors) if not isinstance(errors, str) else [errors])
    return lines


def _message_lines(body):
    if isinstance(body, dict):
        for key in ("message", "detail", "error"):
            if body.get(key):
                return [str(body[key])]
        return []
    if isinstance(body, str) and body.strip():
        return [body.strip()[:500]]
    return []
