"""``GET /files/<appId>/<name>``: the bytes of a file, or the way to them.

Local-disk files are streamed by the app with their stored Content-Type, a strong
``ETag``, ``Last-Modified``, ``Cache-Control`` (public files: cache forever, names are
immutable; private files: private, until the signature expires), ``Accept-Ranges``
and single ``Range`` requests (206, 416), ``If-None-Match`` (304) and ``If-Range``.
Files in S3 or another remote storage are not proxied: the answer is a redirect to
their CDN, presigned or storage URL. A private file needs a valid ``expires`` and
``signature`` (its signed URL) or the master key.
"""

from __future__ import annotations

import asyncio
import hmac
import mimetypes
import os
import re
from collections.abc import AsyncIterator, Iterator
from typing import Any, BinaryIO

from django.core.handlers.asgi import ASGIRequest
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    HttpResponseRedirect,
    StreamingHttpResponse,
)
from django.utils.http import http_date

from ..api import cors_headers
from ..conf import bk_settings
from . import links, names
from . import settings as files_settings
from .models import StoredFile
from .storage import get_storage, is_local

READ_BLOCK = 256 * 1024
UNSATISFIABLE = "unsatisfiable"
_RANGE = re.compile(r"^bytes=(\d*)-(\d*)$")


def _text(status: int, message: str) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


def _json(status: int, body: str) -> HttpResponse:
    return HttpResponse(body, status=status, content_type="application/json")


def is_master(request: HttpRequest) -> bool:
    given = request.headers.get("X-Parse-Master-Key")
    expected = bk_settings.MASTER_KEY
    return bool(given and expected and hmac.compare_digest(given.encode(), expected.encode()))


def serve(request: HttpRequest, app_id: str, name: str) -> HttpResponse:
    if app_id != str(bk_settings.APP_ID):
        return _json(403, '{"error":"Invalid application ID."}')
    if name.startswith(".") or not _valid(name):
        return _text(404, "File not found.")
    record = StoredFile.objects.filter(name=name).first()
    if record is not None and record.status != StoredFile.Status.READY:
        return _text(404, "File not found.")
    private = record is not None and record.private
    if private and not is_master(request):
        verdict = links.check_app_signature(
            name, request.GET.get("expires"), request.GET.get("signature")
        )
        if verdict != "ok":
            message = (
                "The signed URL has expired."
                if verdict == "expired"
                else "This file is private: a signed URL is needed."
            )
            return _json(403, '{"code":119,"error":"' + message + '"}')
    storage = get_storage(record.storage_alias if record is not None else None)
    if not is_local(storage):
        alias = record.storage_alias if record is not None else None
        target = links.url_for(name, private=private, alias=alias)
        response: HttpResponse = HttpResponseRedirect(target)
        response["Cache-Control"] = "no-store" if private else "public, max-age=300"
        return response
    response = _serve_local(request, storage, name, record, private)
    for key, value in cors_headers(request).items():
        response[key] = value
    return response


def _valid(name: str) -> bool:
    try:
        names.check_name(name)
    except Exception:
        return False
    return True


def _serve_local(
    request: HttpRequest, storage: Any, name: str, record: StoredFile | None, private: bool
) -> HttpResponse:
    try:
        handle: BinaryIO = open(storage.path(name), "rb")  # noqa: SIM115 (closed by the stream)
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        return _text(404, "File not found.")
    stat = os.fstat(handle.fileno())
    size = stat.st_size
    content_type = (record.content_type if record else None) or (
        mimetypes.guess_type(name)[0] or names.GENERIC_TYPE
    )
    etag = (
        f'"{record.checksum.partition(":")[2]}"'
        if record and record.checksum
        else f'"{size:x}-{int(stat.st_mtime):x}"'
    )
    headers = {
        "Content-Type": content_type,
        "ETag": etag,
        "Last-Modified": http_date(stat.st_mtime),
        "Accept-Ranges": "bytes",
        "Cache-Control": (
            files_settings.private_cache_control()
            if private
            else str(files_settings.get("PUBLIC_CACHE_CONTROL"))
        ),
        "X-Content-Type-Options": "nosniff",
    }
    if _matches(request.headers.get("If-None-Match"), etag):
        handle.close()
        return _with(HttpResponse(status=304), headers, drop=("Content-Type",))
    start, end = 0, size - 1
    status = 200
    wanted = request.headers.get("Range")
    if_range = request.headers.get("If-Range")
    if wanted and (if_range is None or if_range == etag):
        parsed = _parse_range(wanted, size)
        if parsed == UNSATISFIABLE:
            handle.close()
            response = _with(_text(416, "Requested range not satisfiable."), headers)
            response["Content-Range"] = f"bytes */{size}"
            return response
        if isinstance(parsed, tuple):
            start, end = parsed
            status = 206
    length = max(end - start + 1, 0)
    if request.method == "HEAD":
        handle.close()
        response = _with(HttpResponse(status=status), headers)
    else:
        handle.seek(start)
        body = (
            _async_blocks(handle, length)
            if isinstance(request, ASGIRequest)
            else _blocks(handle, length)
        )
        response = _with(StreamingHttpResponse(body, status=status), headers)
    response["Content-Length"] = str(length)
    if status == 206:
        response["Content-Range"] = f"bytes {start}-{end}/{size}"
    return response


def _with(response: HttpResponseBase, headers: dict[str, str], drop: tuple[str, ...] = ()) -> Any:
    for key, value in headers.items():
        if key not in drop:
            response[key] = value
    return response


def _matches(header: str | None, etag: str) -> bool:
    if not header:
        return False
    candidates = [c.strip().removeprefix("W/") for c in header.split(",")]
    return "*" in candidates or etag in candidates


def _parse_range(header: str, size: int) -> tuple[int, int] | str | None:
    """One ``bytes=a-b`` range as ``(start, end)``; None to ignore it (several, malformed)."""
    match = _RANGE.match(header.strip())
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:  # the last N bytes
        suffix = int(last)
        if suffix == 0:
            return UNSATISFIABLE
        return max(size - suffix, 0), size - 1
    start = int(first)
    end = min(int(last), size - 1) if last else size - 1
    if last and int(last) < start:
        return None
    if start >= size:
        return UNSATISFIABLE
    return start, end


def _blocks(handle: BinaryIO, length: int) -> Iterator[bytes]:
    try:
        while length > 0:
            block = handle.read(min(READ_BLOCK, length))
            if not block:
                break
            length -= len(block)
            yield block
    finally:
        handle.close()


async def _async_blocks(handle: BinaryIO, length: int) -> AsyncIterator[bytes]:
    # Under ASGI a synchronous iterator would be read whole into memory by Django
    # before sending; reading block by block in a thread keeps memory flat.
    try:
        while length > 0:
            block = await asyncio.to_thread(handle.read, min(READ_BLOCK, length))
            if not block:
                break
            length -= len(block)
            yield block
    finally:
        handle.close()
