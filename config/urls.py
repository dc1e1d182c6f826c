from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("cooperation.urls")),
]

# JSON from the API, the site's own pages elsewhere.
handler400 = "cooperation.api.bad_request"
handler404 = "cooperation.api.page_not_found"
handler500 = "config.middleware.server_error"
