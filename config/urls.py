from django.apps import apps
from django.contrib import admin
from django.urls import include, path

from config import health

admin.site.site_header = "Order hub"
admin.site.site_title = "Order hub"
admin.site.index_title = "Orders, returns and provider deliveries"
# The hub has no public site: the admin's "View site" link would lead to a 404.
admin.site.site_url = None

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    # Sign-in for the browsable API and the API docs page (DRF's templates name this namespace).
    path("api/v1/auth/", include("rest_framework.urls")),
    path("api/", include("api.urls")),
]

if apps.is_installed("sandbox"):
    # The fake providers: installed by the local and test settings only, never by production.
    # Each of their views answers 404 while SANDBOX_ENABLED is off.
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
