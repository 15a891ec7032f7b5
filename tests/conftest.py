import pytest


@pytest.fixture(autouse=True)
def _media_and_time(settings):
    settings.SANDBOX_ENABLED = True
