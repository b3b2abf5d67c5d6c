"""The board's page, and the Parse JS SDK from the npm package next to it.

The SDK is not committed: ``npm ci`` in this folder (``python3 dev.py demo`` runs it)
installs the version pinned in ``package.json``, and :func:`parse_sdk` serves its
browser build from ``node_modules``.
"""

from __future__ import annotations

from pathlib import Path

from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_safe

from backend_kit.conf import bk_settings

SDK_FILE = Path(__file__).resolve().parent / "node_modules" / "parse" / "dist" / "parse.min.js"


@require_safe
def board(request: HttpRequest) -> HttpResponse:
    """The single page; the script finds the Parse app's public settings in it."""
    config = {
        "appId": bk_settings.APP_ID,
        "javascriptKey": bk_settings.JAVASCRIPT_KEY,
        # the page talks to the server it came from, whatever name it was reached by
        "mount": "/parse",
    }
    return render(request, "board/index.html", {"config": config})


@require_safe
def parse_sdk(request: HttpRequest) -> HttpResponse:
    if not SDK_FILE.is_file():
        return HttpResponse(
            "The Parse JS SDK is not installed: run `npm ci` in example_project/web.",
            status=503,
            content_type="text/plain; charset=utf-8",
        )
    return FileResponse(SDK_FILE.open("rb"), content_type="text/javascript; charset=utf-8")
