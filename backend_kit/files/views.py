"""The ``/files`` endpoints (Parse Server's) and ``/fileUploads`` (direct uploads to S3).

``POST /files/<name>`` takes either

* the raw bytes, with the keys in ``X-Parse-*`` headers, the type in ``Content-Type``
  and optionally ``X-Parse-File-Metadata`` / ``X-Parse-File-Tags`` (JSON objects): the
  body is streamed into the storage, never held whole; or
* the JS SDK's JSON form ``{"base64", "fileData": {"metadata", "tags"}, "_ContentType",
  "_ApplicationId", ...}`` (also a ``data:...;base64,`` URL),

and answers ``201 {name, url}`` with a ``Location`` header. ``DELETE /files/<name>``
(master key) answers ``200 {}``. ``GET /files/<appId>/<name>`` serves the file (see
:mod:`.serving`); ``GET /files/<appId>/metadata/<name>`` answers its description
(``{}`` for an unknown file, as Parse Server does).
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from typing import Any

import orjson
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response

from ..api import ParseAPIView, cors_headers
from ..codec import format_iso
from ..conf import bk_settings
from ..errors import Code, ParseError
from ..objects.openapi import error_responses, object_response
from . import direct, names, rules, service, serving, writers
from . import settings as files_settings
from .models import StoredFile

saved_response = OpenApiResponse(OpenApiTypes.OBJECT, description="{name, url} of the stored file")


def _json_header(request: HttpRequest, header: str) -> Any:
    value = request.headers.get(header)
    if value is None:
        return None
    try:
        parsed = orjson.loads(value)
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        raise ParseError(Code.INVALID_JSON, f"Invalid JSON in {header} header.")
    return parsed


def _content_length(request: HttpRequest) -> int | None:
    value = request.META.get("CONTENT_LENGTH")
    if not value:
        return None
    try:
        length = int(value)
    except ValueError:
        raise ParseError(Code.INVALID_CONTENT_LENGTH, "Invalid Content-Length")
    if length < 0:
        raise ParseError(Code.INVALID_CONTENT_LENGTH, "Invalid Content-Length")
    return length


_DATA_URL = re.compile(r"^data:([^;,]*)(;[^,]*)?,", re.IGNORECASE)


def decode_base64(value: Any, limit: int) -> tuple[bytes, str | None]:
    """The bytes of the JSON form's ``base64`` (and a data URL's type); 130 if it does not decode."""
    if value is None or value == "":
        raise names.save_error("Invalid file upload.")
    if not isinstance(value, str):
        raise names.save_error("base64 must be a string.")
    data_type = None
    match = _DATA_URL.match(value)
    if match is not None:
        if ";base64" not in (match.group(2) or "").lower():
            raise names.save_error("Only base64 data URLs can be uploaded.")
        data_type = match.group(1) or None
        value = value[match.end() :]
    text = re.sub(r"\s+", "", value)
    if (len(text) // 4) * 3 > limit + 2:  # refuse before decoding what cannot fit
        raise writers.too_large(limit)
    altchars = b"-_" if ("-" in text or "_" in text) else None
    text += "=" * (-len(text) % 4)
    try:
        data = base64.b64decode(text, altchars=altchars, validate=True)
    except (binascii.Error, ValueError):
        raise names.save_error("Invalid base64 data.")
    if not data:
        raise names.save_error("Invalid file upload.")
    return data, data_type


class FileView(ParseAPIView):
    """``POST /files/<name>`` (upload), ``DELETE /files/<name>`` (master key)."""

    raw_body = True

    def max_body_size(self) -> int | None:
        return files_settings.json_form_limit()

    @extend_schema(
        operation_id="files_upload",
        request={"application/octet-stream": OpenApiTypes.BINARY},
        responses={201: saved_response, **error_responses},
    )
    def post(self, request: Any, name: str) -> Response:
        django_request = request._request
        env = django_request.bk_envelope
        limit = files_settings.max_size()
        if env.streamed:
            file_request = service.FileRequest(
                name=name,
                content_type=django_request.META.get("CONTENT_TYPE"),
                metadata=_json_header(django_request, "X-Parse-File-Metadata"),
                tags=_json_header(django_request, "X-Parse-File-Tags"),
                size=_content_length(django_request),
                directory=django_request.headers.get("X-Parse-File-Directory"),
            )
            source = writers.UploadSource(django_request.read, limit)
        else:
            body = request.data if isinstance(request.data, dict) else {}
            file_data = body.get("fileData") or {}
            if not isinstance(file_data, dict):
                raise ParseError(Code.INVALID_JSON, "fileData must be an object.")
            # Checked before decoding, so a refused caller costs no decoding.
            rules.check_may_upload(request.bk)
            data, data_type = decode_base64(body.get("base64"), limit)
            given_type = env.content_type if b'"_ContentType"' in env.raw else None
            file_request = service.FileRequest(
                name=name,
                content_type=given_type or data_type,
                metadata=file_data.get("metadata"),
                tags=file_data.get("tags"),
                size=len(data),
                directory=file_data.get("directory"),
            )
            source = writers.UploadSource(io.BytesIO(data).read, limit)
        record = service.upload(request.bk, file_request, source)
        url = service.describe_saved(record)["url"]
        return Response({"name": record.name, "url": url}, status=201, headers={"Location": url})

    @extend_schema(operation_id="files_delete", responses={200: object_response, **error_responses})
    def delete(self, request: Any, name: str) -> Response:
        service.delete(request.bk, name)
        return Response({})


class DirectUploadView(ParseAPIView):
    """``POST /fileUploads``: a presigned request to upload straight to S3."""

    @extend_schema(
        operation_id="files_direct_upload",
        request=OpenApiTypes.OBJECT,
        responses={201: object_response, **error_responses},
    )
    def post(self, request: Any) -> Response:
        body = request.data if isinstance(request.data, dict) else None
        if body is None:
            raise ParseError(Code.INVALID_JSON, "The upload request must be a JSON object.")
        return Response(direct.presign(request.bk, body), status=201)


class CompleteUploadView(ParseAPIView):
    """``POST /fileUploads/<name>/complete``: register a directly uploaded file."""

    @extend_schema(
        operation_id="files_direct_upload_complete",
        request=None,
        responses={201: saved_response, **error_responses},
    )
    def post(self, request: Any, name: str) -> Response:
        record = direct.complete(request.bk, name)
        url = service.describe_saved(record)["url"]
        return Response({"name": record.name, "url": url}, status=201, headers={"Location": url})


# --- plain Django views: reached by browsers and CDNs without Parse keys ---------------


def _error(code: int, message: str, status: int = 400) -> JsonResponse:
    return JsonResponse({"code": code, "error": message}, status=status)


def _preflight(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(status=200)
    for key, value in cors_headers(request).items():
        response[key] = value
    response["Access-Control-Max-Age"] = str(bk_settings.CORS_MAX_AGE)
    return response


@csrf_exempt
def file_download(request: HttpRequest, app_id: str, name: str) -> HttpResponse:
    if request.method in ("GET", "HEAD"):
        return serving.serve(request, app_id, name)
    if request.method == "OPTIONS":
        return _preflight(request)
    if request.method in ("POST", "DELETE"):
        return _error(Code.INVALID_FILE_NAME, "Filename must not contain path separators.")
    return _error(Code.OPERATION_FORBIDDEN, f'Method "{request.method}" not allowed.', 405)


@csrf_exempt
def file_path_without_name(request: HttpRequest, rest: str = "") -> HttpResponse:
    """``/files`` and ``/files/a/b/c``: no valid file name (122), or no such file (404)."""
    if request.method == "OPTIONS":
        return _preflight(request)
    if request.method in ("GET", "HEAD"):
        return HttpResponse("File not found.", status=404, content_type="text/plain")
    if not rest.strip("/"):
        return _error(Code.INVALID_FILE_NAME, "Filename not provided.")
    return _error(Code.INVALID_FILE_NAME, "Filename must not contain path separators.")


def file_metadata(request: HttpRequest, app_id: str, name: str) -> HttpResponse:
    """Parse Server answers ``{}`` for anything it cannot describe; so does this."""
    if request.method == "OPTIONS":
        return _preflight(request)
    record = StoredFile.objects.filter(name=name, status=StoredFile.Status.READY).first()
    if app_id != str(bk_settings.APP_ID) or record is None:
        return JsonResponse({})
    if record.private and not serving.is_master(request):
        return _error(Code.OPERATION_FORBIDDEN, "This file is private.", 403)
    response = JsonResponse(
        {
            "name": record.name,
            "contentType": record.content_type,
            "size": record.size,
            "metadata": record.metadata,
            "tags": record.tags,
            "private": record.private,
            "createdAt": {"__type": "Date", "iso": format_iso(record.created_at)},
        }
    )
    for key, value in cors_headers(request).items():
        response[key] = value
    return response
