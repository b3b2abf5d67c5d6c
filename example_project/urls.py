from django.apps import apps
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from example_project.web import views as board

urlpatterns = [
    path("admin/", admin.site.urls),
    path("parse/", include("backend_kit.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    # the demo task board (example_project/web) and the Parse JS SDK it runs on
    path("", board.board, name="board"),
    path("board/parse.min.js", board.parse_sdk, name="board-parse-sdk"),
]

if apps.is_installed("allauth.headless"):
    # allauth headless API for web/mobile clients, and the provider callbacks it needs
    urlpatterns += [
        path("_allauth/", include("allauth.headless.urls")),
        path("accounts/", include("allauth.urls")),
    ]
