from django.apps import AppConfig


class ApiConfig(AppConfig):
    """The REST API for the shop's other systems (/api/v1/): a door onto the domain services."""

    name = "api"
    verbose_name = "REST API"
