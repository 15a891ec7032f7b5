"""Fixtures for the provider client tests. Not autouse: tests/sandbox has its own."""

import pytest

CREDENTIALS = {
    "THIRTYFIVEUP_USERNAME": "seller-user",
    "THIRTYFIVEUP_PASSWORD": "35up-Secret-Pass",
    "SENDCLOUD_PUBLIC_KEY": "sc-public-key-123",
    "SENDCLOUD_SECRET_KEY": "sc-Secret-Key-456",
    "SHIPUP_API_KEY": "shipup-Private-Key-789",
    "REEVOO_API_KEY": "reevoo-key-abc",
    "REEVOO_API_SECRET": "reevoo-Secret-def",
}
BASE_URLS = {
    "THIRTYFIVEUP_BASE_URL": "https://api.35up.test/v1",
    "SENDCLOUD_BASE_URL": "https://panel.sendcloud.test/api/v3",
    "SHIPUP_BASE_URL": "https://api.shipup.test",
    "REEVOO_BASE_URL": "https://api.reevoo.test/v4",
}


@pytest.fixture
def provider_settings(settings):
    """All four providers configured against test hosts; the limiter on the database."""
    for name, value in {**CREDENTIALS, **BASE_URLS}.items():
        setattr(settings, name, value)
    settings.SENDCLOUD_INTEGRATION_ID = 7
    settings.REEVOO_TRKREF = "TRKREF123"
    settings.REDIS_URL = ""
    settings.PROVIDER_CONNECT_TIMEOUT = 3.0
    settings.PROVIDER_READ_TIMEOUT = 12.0
    return settings
