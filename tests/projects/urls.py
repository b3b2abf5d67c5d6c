from django.apps import apps
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView

urlpatterns = [
    path("admin/", admin.site.urls),
    path("parse/", include("backend_kit.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
]

if apps.is_installed("allauth.headless"):
    urlpatterns += [
        path("_allauth/", include("allauth.headless.urls")),
        path("accounts/", include("allauth.urls")),
    ]
