"""Which providers are configured. A provider without credentials is disabled: nothing is sent to
it, and the order page says so. The settings each provider needs are listed once, in
integrations.http.provider_config."""

from integrations.http import Provider, provider_config


def missing_settings(provider):
    return provider_config(provider).missing


def is_enabled(provider):
    return provider_config(provider).enabled


def enabled_providers():
    return [provider for provider in Provider if is_enabled(provider)]


def disabled_providers():
    """{provider: [missing setting, ...]} for every disabled provider."""
    return {provider: missing for provider in Provider if (missing := missing_settings(provider))}
