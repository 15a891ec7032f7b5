"""The providers the hub talks to, and each one's configuration: the one home of the Provider
enum and of the settings each provider needs. A provider without credentials is disabled: nothing
is sent to it, and the order page says so."""

import base64
from dataclasses import dataclass, field

import requests
from django.conf import settings
from django.db import models


class Provider(models.TextChoices):
    THIRTYFIVEUP = "35up", "35up"
    SENDCLOUD = "sendcloud", "Sendcloud"
    SHIPUP = "shipup", "Shipup"
    REEVOO = "reevoo", "Reevoo"


class BearerAuth(requests.auth.AuthBase):
    def __init__(self, token):
        self.token = token

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.token}"
        return request


@dataclass(frozen=True)
class ProviderConfig:
    provider: str
    base_url: str
    # Setting name -> value of everything the provider needs to be enabled.
    required: dict = field(repr=False)
    auth: object = field(default=None, repr=False)
    timeout: tuple = (5.0, 30.0)

    @property
    def missing(self):
        return [name for name, value in self.required.items() if value in ("", None)]

    @property
    def enabled(self):
        return not self.missing

    @property
    def secrets(self):
        """Strings that must never appear in anything we log or store (the Basic pair also as
        it travels, base64-encoded)."""
        if isinstance(self.auth, BearerAuth):
            values = [self.auth.token]
        elif isinstance(self.auth, tuple):
            pair = ":".join(self.auth)
            values = [*self.auth, base64.b64encode(pair.encode()).decode()]
        else:
            values = []
        return [value for value in values if value]


def provider_config(provider):
    """The provider's configuration as the settings say now (tests override settings)."""
    s = settings
    timeout = (s.PROVIDER_CONNECT_TIMEOUT, s.PROVIDER_READ_TIMEOUT)
    if provider == Provider.THIRTYFIVEUP:
        return ProviderConfig(
            provider,
            s.THIRTYFIVEUP_BASE_URL,
            {
                "THIRTYFIVEUP_USERNAME": s.THIRTYFIVEUP_USERNAME,
                "THIRTYFIVEUP_PASSWORD": s.THIRTYFIVEUP_PASSWORD,
            },
            (s.THIRTYFIVEUP_USERNAME, s.THIRTYFIVEUP_PASSWORD),
            timeout,
        )
    if provider == Provider.SENDCLOUD:
        return ProviderConfig(
            provider,
            s.SENDCLOUD_BASE_URL,
            {
                "SENDCLOUD_PUBLIC_KEY": s.SENDCLOUD_PUBLIC_KEY,
                "SENDCLOUD_SECRET_KEY": s.SENDCLOUD_SECRET_KEY,
                "SENDCLOUD_INTEGRATION_ID": s.SENDCLOUD_INTEGRATION_ID,
            },
            (s.SENDCLOUD_PUBLIC_KEY, s.SENDCLOUD_SECRET_KEY),
            timeout,
        )
    if provider == Provider.SHIPUP:
        return ProviderConfig(
            provider,
            s.SHIPUP_BASE_URL,
            {"SHIPUP_API_KEY": s.SHIPUP_API_KEY},
            BearerAuth(s.SHIPUP_API_KEY),
            timeout,
        )
    if provider == Provider.REEVOO:
        return ProviderConfig(
            provider,
            s.REEVOO_BASE_URL,
            {
                "REEVOO_API_KEY": s.REEVOO_API_KEY,
                "REEVOO_API_SECRET": s.REEVOO_API_SECRET,
                "REEVOO_TRKREF": s.REEVOO_TRKREF,
            },
            (s.REEVOO_API_KEY, s.REEVOO_API_SECRET),
            timeout,
        )
    raise ValueError(f"Unknown provider {provider!r}.")


def missing_settings(provider):
    return provider_config(provider).missing


def is_enabled(provider):
    return provider_config(provider).enabled


def enabled_providers():
    return [provider for provider in Provider if is_enabled(provider)]


def disabled_providers():
    """{provider: [missing setting, ...]} for every disabled provider."""
    return {provider: missing for provider in Provider if (missing := missing_settings(provider))}
