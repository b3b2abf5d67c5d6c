"""Mount with ``path("parse/", include("backend_kit.urls"))``.

Each installed backend_kit app adds its endpoints; the last pattern answers any
other path under the mount with a Parse error rather than an HTML 404.

The apps' patterns are copied into this list rather than included: an ``include("")``
per app made Django resolve every request through one more level (another regex and
another ``ResolverMatch`` built and merged), for nothing, as the apps' URLconfs have
no namespace of their own. Names and routes are the same either way.
"""

from importlib import import_module

from django.apps import apps
from django.urls import path, re_path
from django.views.decorators.csrf import csrf_exempt

from .views import ServerInfoView, health, not_found

app_name = "backend_kit"

urlpatterns = [
    path("health", csrf_exempt(health), name="health"),
    path("serverInfo", ServerInfoView.as_view(), name="server-info"),
]

_APP_URLS = (
    ("backend_kit.objects", "backend_kit.objects.urls"),
    ("backend_kit.accounts", "backend_kit.accounts.urls"),
    ("backend_kit.files", "backend_kit.files.urls"),
    ("backend_kit.cloud", "backend_kit.cloud.urls"),
    ("backend_kit.jobs", "backend_kit.jobs.urls"),
    ("backend_kit.push", "backend_kit.push.urls"),
    ("backend_kit.guardrails", "backend_kit.guardrails.urls"),
)
for app, module in _APP_URLS:
    if apps.is_installed(app):
        urlpatterns.extend(import_module(module).urlpatterns)

urlpatterns.append(re_path(r"^(?P<unmatched>.*)$", csrf_exempt(not_found)))
