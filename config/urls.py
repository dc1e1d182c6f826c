from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("", include("cooperation.urls")),
]

handler500 = "config.middleware.server_error"
