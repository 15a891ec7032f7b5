"""/api/v1/: the REST API, its OpenAPI schema and its docs page."""

from django.contrib.auth.decorators import login_required
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
from rest_framework.routers import DefaultRouter

from api import errors, views

app_name = "api"

router = DefaultRouter(trailing_slash=True)
router.include_root_view = False
router.register("orders", views.OrderViewSet, basename="order")
router.register("returns", views.ReturnViewSet, basename="return")
router.register("deliveries", views.DeliveryViewSet, basename="delivery")

urlpatterns = [
    path(
        "v1/orders/by-reference/<str:reference>/",
        views.OrderByReferenceView.as_view({"get": "retrieve"}),
        name="order-by-reference",
    ),
    path("v1/", include(router.urls)),
    path("v1/schema/", SpectacularAPIView.as_view(), name="schema"),
    # A page for people: without a session it sends them to sign in first.
    path(
        "v1/docs/",
        login_required(
            SpectacularSwaggerView.as_view(url_name="api:schema"),
            login_url="rest_framework:login",
        ),
        name="docs",
    ),
    re_path(r"^.*$", errors.not_found),
]
