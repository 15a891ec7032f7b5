"""Sign-in throttling around django-axes (settings: LOGIN_FAILURE_LIMIT, LOGIN_COOLOFF_MINUTES).

Axes counts failed sign-ins per username and address and refuses a sign-in once the limit is
reached, until the cool-off has passed or a person unlocks it (`manage.py unlock_login`). This
module adds what the hub wants on top: one log line per failure and per lockout naming the
username and the address (never the password), the client's address behind a trusted proxy, and
the page a locked-out person sees, which says when to try again.
"""

import ipaddress
import logging
import math

from axes.helpers import (
    get_client_ip_address,
    get_client_username,
    get_cool_off,
    get_failure_limit,
)
from axes.models import AccessAttempt
from axes.signals import user_locked_out
from axes.utils import reset
from django.conf import settings
from django.contrib.admin import site
from django.contrib.auth.signals import user_login_failed
from django.shortcuts import render
from django.utils import timezone

logger = logging.getLogger(__name__)

# Logged usernames are cut to this length: the field is free text from the sign-in form.
MAX_LOGGED_USERNAME = 150
# At most this many X-Forwarded-For entries are read (a client can send a long header).
MAX_FORWARDED_ENTRIES = 20


def client_address(request):
    """The client's address: REMOTE_ADDR, or behind LOGIN_TRUSTED_PROXIES proxies the entry that
    many from the right of X-Forwarded-For (each proxy appends the address it was called from;
    entries further left are whatever the client sent)."""
    proxies = settings.LOGIN_TRUSTED_PROXIES
    remote = request.META.get("REMOTE_ADDR") or None
    if not proxies:
        return remote
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")[-MAX_FORWARDED_ENTRIES:]
    entries = [entry.strip() for entry in forwarded if entry.strip()]
    if len(entries) < proxies:
        return remote
    # axes stores the address in an IP field: anything else is the header's noise, not a client.
    try:
        return str(ipaddress.ip_address(entries[-proxies]))
    except ValueError:
        return remote


def logged_username(credentials):
    username = str((credentials or {}).get("username") or "")
    return username[:MAX_LOGGED_USERNAME]


def log_failed_sign_in(sender, credentials, request=None, **kwargs):
    # Django has masked the password in `credentials`; only the username is read from it.
    address = get_client_ip_address(request) if request is not None else None
    logger.warning(
        "Sign-in failed: username=%r address=%s", logged_username(credentials), address or "-"
    )


def log_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    username = str(username or "")[:MAX_LOGGED_USERNAME]
    # axes sends this signal for the failure that locks and for each attempt refused during the
    # lock; only the first has its failures counted on the request.
    if getattr(request, "axes_failures_since_start", None) is None:
        logger.warning(
            "Sign-in refused, locked: username=%r address=%s", username, ip_address or "-"
        )
        return
    logger.warning(
        "Sign-in locked after %s failures: username=%r address=%s, for %s minutes",
        request.axes_failures_since_start,
        username,
        ip_address or "-",
        # axes' own setting, which the lockout page uses too (LOGIN_COOLOFF_MINUTES sets it).
        int(settings.AXES_COOLOFF_TIME.total_seconds() // 60),
    )


def connect_signals():
    user_login_failed.connect(log_failed_sign_in, dispatch_uid="core.signin.failed")
    user_locked_out.connect(log_lockout, dispatch_uid="core.signin.locked")


def locked_since(request, credentials):
    """The time of the last failure counted for this username and address (axes' record)."""
    return (
        AccessAttempt.objects.filter(
            username=get_client_username(request, credentials),
            ip_address=getattr(request, "axes_ip_address", None),
        )
        .order_by("-attempt_time")
        .values_list("attempt_time", flat=True)
        .first()
    )


def lockout_response(request, original_response=None, credentials=None):
    """The page a locked-out person sees (AXES_LOCKOUT_CALLABLE): 429, and when to try again:
    the cool-off after the last counted failure (attempts during the lock are not counted)."""
    cool_off = get_cool_off(request)
    retry_at = (locked_since(request, credentials) or timezone.now()) + cool_off
    context = {
        **site.each_context(request),
        "title": "Sign-in locked",
        "failure_limit": get_failure_limit(request, credentials),
        "minutes_left": max(1, math.ceil((retry_at - timezone.now()).total_seconds() / 60)),
        "retry_at": retry_at,
    }
    # Rendered at once: axes' middleware returns it after the view's response was rendered.
    return render(request, "registration/locked_out.html", context, status=429)


def unlock(*, username):
    """Forget the failed sign-ins of `username` from every address; returns how many records."""
    if not username:
        # axes' reset() without a username or address forgets every record of everyone.
        raise ValueError("A username is needed to unlock a sign-in.")
    return reset(username=username)
