import pytest
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from core.groups import API_READ, INTEGRATION_ADMIN, SUPPORT
from tests.factories import UserFactory


def client_for(user):
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=user)
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


@pytest.fixture
def support_user(db):
    return UserFactory(username="checkout", groups=[SUPPORT])


@pytest.fixture
def api(support_user):
    """An API client of the shop's checkout: a user in the support group, with a token."""
    return client_for(support_user)


@pytest.fixture
def reader(db):
    """An API client in the api-read group: reads everything, writes nothing."""
    return client_for(UserFactory(username="erp-reader", groups=[API_READ]))


@pytest.fixture
def admin_api(db):
    return client_for(UserFactory(username="integrator", groups=[INTEGRATION_ADMIN]))
