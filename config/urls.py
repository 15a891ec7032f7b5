from django.conf import settings
from django.contrib import admin
from django.urls import include, path

from config import health

admin.site.site_header = "Order hub"
admin.site.site_title = "Order hub"
admin.site.index_title = "Orders, returns and provider deliveries"

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("api/", include("api.urls")),
]

if settings.SANDBOX_ENABLED:
    # The fake providers; production settings refuse SANDBOX_ENABLED, so this is never there.
    urlpatterns.append(path("sandbox/", include("sandbox.urls")))
