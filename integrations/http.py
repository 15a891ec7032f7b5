"""HTTP plumbing shared by the provider clients: configuration from settings, one pooled session
per provider, explicit timeouts, the shared rate limiter, error translation and redaction.

Credentials live only in the per-request `auth`; they never reach a message, a log line or a
stored request (`redact_headers`, `scrub`).
"""

import contextvars
import json
import logging
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from urllib.parse import urlsplit

import requests
from django.conf import settings
from requests.adapters import HTTPAdapter
from urllib3.exceptions import NameResolutionError, NewConnectionError

from integrations import errors
from integrations.errors import (
    PermanentProviderError,
    ProviderBadAnswer,
    ProviderDisabled,
    ProviderNoAnswer,
    ProviderRateLimited,
    ProviderUnreachable,
    ProviderValidationError,
    RetryableProviderError,
)
from integrations.providers import Provider, provider_config
from integrations.ratelimit import default_limiter

logger = logging.getLogger(__name__)

REDACTED = "***"
# Headers kept when a request or answer is stored; the credential-bearing ones only masked.
STORED_HEADERS = frozenset(
    {"accept", "content-type", "content-length", "user-agent", "link", "retry-after", "location"}
)
MASKED_HEADERS = frozenset({"authorization", "cookie", "set-cookie", "proxy-authorization"})


ERROR_LINES = {
    Provider.THIRTYFIVEUP: errors.thirtyfiveup_error_lines,
    Provider.SENDCLOUD: errors.sendcloud_error_lines,
    Provider.SHIPUP: errors.shipup_error_lines,
    Provider.REEVOO: errors.reevoo_error_lines,
}


def user_agent():
    return f"order-hub/{settings.HUB_VERSION}"


_sessions = {}
_sessions_lock = threading.Lock()


def session_for(provider):
    """One pooled session per provider and process; it carries no credentials."""
    with _sessions_lock:
        session = _sessions.get(provider)
        if session is None:
            session = requests.Session()
            # No transport-level retries: the outbox decides what is safe to repeat.
            adapter = HTTPAdapter(
                pool_connections=1, pool_maxsize=settings.PROVIDER_POOL_SIZE, max_retries=0
            )
            session.mount("https://", adapter)
            session.mount("http://", adapter)
            session.headers.update({"User-Agent": user_agent(), "Accept": "application/json"})
            _sessions[provider] = session
        return session


def redact_headers(headers):
    """Headers fit to store: an allowlist, with Authorization and Cookie masked."""
    kept = {}
    for name, value in (headers or {}).items():
        lowered = name.lower()
        if lowered in MASKED_HEADERS:
            kept[name] = REDACTED
        elif lowered in STORED_HEADERS:
            kept[name] = value
    return kept


def scrub(text, secrets):
    for secret in secrets:
        text = text.replace(secret, REDACTED)
    return text


def to_wire(value):
    """Our data as JSON types: Decimal money becomes a JSON number only here, at the edge.

    A float's repr is the shortest text that reads back as the same float, so 3.50 goes out as
    3.5; a Decimal that a float cannot carry exactly is refused rather than rounded.
    """
    if isinstance(value, Decimal):
        number = float(value)
        if Decimal(repr(number)) != value:
            raise ValueError(f"{value} cannot be sent as a JSON number without rounding.")
        return number
    if isinstance(value, dict):
        return {key: to_wire(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [to_wire(item) for item in value]
    return value


def encode_json(payload):
    return json.dumps(to_wire(payload), ensure_ascii=False, separators=(",", ":")).encode()


def describe_request(prepared):
    """A sent request as stored on a delivery: method, URL, redacted headers, body."""
    body = prepared.body or b""
    return {
        "method": prepared.method,
        "url": prepared.url,
        "headers": redact_headers(prepared.headers),
        "body": body.decode("utf-8", "replace") if isinstance(body, bytes) else body,
    }


def _never_connected(error):
    # A TLS handshake failure, too, happens before the request is written.
    if isinstance(error, requests.ConnectTimeout | requests.exceptions.SSLError):
        return True
    cause = error.args[0] if error.args else None
    reason = getattr(cause, "reason", cause)
    return isinstance(reason, NewConnectionError | NameResolutionError)


@dataclass(frozen=True)
class Exchange:
    """The last call as it may be stored: redacted request, answer status, body and links."""

    request: dict
    status: int
    body: str
    links: dict


_exchange_log = contextvars.ContextVar("provider_exchanges", default=None)


@contextmanager
def recorded_exchanges():
    """Collect every call's redacted Exchange made inside the block (the outbox stores them)."""
    exchanges = []
    token = _exchange_log.set(exchanges)
    try:
        yield exchanges
    finally:
        _exchange_log.reset(token)


class ProviderClient:
    """Base of the four clients: built from settings, with an injectable session and limiter."""

    provider = None

    def __init__(self, config, *, session=None, limiter=None):
        self.config = config
        self.last_exchange = None
        self.session = session or session_for(self.provider)
        self.limiter = limiter or default_limiter()

    @classmethod
    def from_settings(cls, **kwargs):
        config = provider_config(cls.provider)
        if not config.enabled:
            raise ProviderDisabled(
                cls.provider, f"Disabled: {', '.join(config.missing)} not configured."
            )
        return cls(config, **kwargs)

    def url(self, path):
        return self.config.base_url.rstrip("/") + path

    def request(self, method, path, *, payload=None, params=None, url=None):
        """Send one request and return the answer's decoded JSON body (None when empty).

        `url` replaces base URL + path (a pagination link); it must point at the same host.
        Raises the ProviderError family.
        """
        url = url or self.url(path)
        if urlsplit(url).netloc != urlsplit(self.config.base_url).netloc:
            raise PermanentProviderError(self.provider, f"Refusing to follow {url}: other host.")
        headers = {"Content-Type": "application/json"} if payload is not None else {}
        try:
            data = encode_json(payload) if payload is not None else None
        except ValueError as error:
            # Never sent: a value the wire format cannot carry (e.g. a Decimal a JSON number
            # would round) is our refusal, not the provider's.
            raise ProviderValidationError(self.provider, str(error)) from None
        self.limiter.acquire(self.provider, "read" if method == "GET" else "write")
        started = time.monotonic()
        try:
            response = self.session.request(
                method,
                url,
                data=data,
                params=params,
                headers=headers,
                auth=self.config.auth,
                timeout=self.config.timeout,
            )
        except requests.RequestException as error:
            self._log(method, url, "no answer", started)
            raise self._transport_error(error, method, url) from None
        self._log(method, url, response.status_code, started)
        request = describe_request(response.request)
        body_text = scrub(response.text, self.config.secrets)
        self.last_exchange = Exchange(request, response.status_code, body_text, response.links)
        if (log := _exchange_log.get()) is not None:
            log.append(self.last_exchange)
        if response.status_code >= 400:
            raise self._error_for_response(response, method, request, body_text)
        if not body_text.strip():
            return None
        try:
            return response.json()
        except ValueError:
            raise ProviderBadAnswer(
                self.provider,
                f"{method} {urlsplit(url).path} answered {response.status_code} with a body "
                "that is not JSON.",
                status=response.status_code,
                request=request,
                response_body=body_text,
            ) from None

    def _log(self, method, url, outcome, started):
        logger.info(
            "%s %s %s -> %s (%.0f ms)",
            self.provider,
            method,
            urlsplit(url).path,
            outcome,
            (time.monotonic() - started) * 1000,
        )

    def _transport_error(self, error, method, url):
        where = f"{method} {urlsplit(url).path}"
        kind = type(error).__name__
        if _never_connected(error):
            return ProviderUnreachable(self.provider, f"{where}: could not connect ({kind}).")
        if isinstance(error, requests.ConnectionError | requests.Timeout):
            return ProviderNoAnswer(
                self.provider, f"{where}: sent, but no answer came back ({kind})."
            )
        return PermanentProviderError(self.provider, f"{where}: request failed ({kind}).")

    def _error_for_response(self, response, method, request, body_text):
        try:
            body = json.loads(body_text)
        except ValueError:
            body = body_text
        status = response.status_code
        details = [scrub(line, self.config.secrets) for line in ERROR_LINES[self.provider](body)]
        retry_after = errors.retry_after_seconds(response.headers.get("Retry-After"))
        message = f"{method} {urlsplit(response.url).path} answered {status} {response.reason}."
        if status == 429:
            kind = ProviderRateLimited
        elif status in (408, 409) or status >= 500:
            kind = RetryableProviderError
        else:
            kind = PermanentProviderError
        return kind(
            self.provider,
            message,
            status=status,
            details=details,
            retry_after=retry_after,
            request=request,
            response_body=body_text,
        )
