"""Which providers are configured. A provider without credentials is disabled: nothing is sent to
it, and the order page says so."""

from django.conf import settings

REQUIRED_SETTINGS = {
    "35up": ("THIRTYFIVEUP_USERNAME", "THIRTYFIVEUP_PASSWORD"),
    "sendcloud": ("SENDCLOUD_PUBLIC_KEY", "SENDCLOUD_SECRET_KEY", "SENDCLOUD_INTEGRATION_ID"),
    "shipup": ("SHIPUP_API_KEY",),
    "reevoo": ("REEVOO_API_KEY", "REEVOO_API_SECRET", "REEVOO_TRKREF"),
}


def missing_settings(provider):
    return [name for name in REQUIRED_SETTINGS[provider] if not getattr(settings, name, None)]


def is_enabled(provider):
    return not missing_settings(provider)


def disabled_providers():
    """{provider: [missing setting, ...]} for every disabled provider."""
    return {
        provider: missing
        for provider in REQUIRED_SETTINGS
        if (missing := missing_settings(provider))
    }
