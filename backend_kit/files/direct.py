"""Direct uploads: the client sends the bytes straight to S3, never through the app.

``POST /fileUploads`` with ``{"name", "contentType", "size", "method", "metadata",
"tags"}`` applies the upload rules, runs ``beforeSaveFile``, reserves a stored name and
answers a presigned request valid ``DIRECT_UPLOAD_TTL`` seconds:

* ``"method": "PUT"`` (default): ``{url, headers}``; ``size`` is required and the
  signature covers ``Content-Length``, ``Content-Type`` and ``Cache-Control``, so S3
  refuses any other size or type;
* ``"method": "POST"``: ``{url, fields}`` for an HTML form / multipart POST whose
  policy holds ``content-length-range [1, size or DIRECT_MAX_SIZE]`` and the type.

``POST /fileUploads/<name>/complete`` then registers the file: the object is looked up
in the bucket and refused (and deleted) when it is missing, empty, larger than allowed
or of another type; else the record becomes ready, ``afterSaveFile`` runs and the
answer is ``{name, url}`` like a normal upload. Unfinished uploads are removed by
``bk_files_cleanup`` once expired.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from ..codec import format_iso
from ..context import RequestContext
from ..errors import Code, ParseError
from ..objects import hooks
from . import names, service, writers
from . import settings as files_settings
from .models import StoredFile
from .storage import alias_for, current_alias, get_storage, is_s3, object_key


def _declared_size(value: Any, *, required: bool) -> int | None:
    if value is None:
        if required:
            raise names.save_error("size is required for a PUT upload.")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise names.save_error("size must be a positive integer.")
    return value


def presign(ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
    alias = current_alias()
    storage: Any = get_storage(alias)
    if not is_s3(storage):
        raise names.save_error("Direct uploads need an S3 storage.")
    method = str(body.get("method") or "PUT").upper()
    if method not in ("PUT", "POST"):
        raise names.save_error("method must be PUT or POST.")
    size = _declared_size(body.get("size"), required=method == "PUT")
    limit = int(files_settings.get("DIRECT_MAX_SIZE"))
    prepared = service.prepare(
        ctx,
        service.FileRequest(
            name=body.get("name"),
            content_type=body.get("contentType"),
            metadata=body.get("metadata"),
            tags=body.get("tags"),
            size=size,
        ),
        limit=limit,
    )
    prepared = service.run_before_save(prepared)
    alias = alias_for(prepared.private)
    storage = get_storage(alias)
    if not is_s3(storage):
        raise names.save_error("Direct uploads need an S3 storage.")
    name = names.stored_name(prepared.clean_name)
    key = object_key(storage, name)
    ttl = int(files_settings.get("DIRECT_UPLOAD_TTL"))
    params = writers.s3_write_parameters(
        storage, key, prepared.content_type, service.cache_control(prepared.private)
    )
    client = storage.connection.meta.client
    answer: dict[str, Any] = {"name": name, "method": method, "maxSize": size or limit}
    if method == "PUT":
        answer["url"] = client.generate_presigned_url(
            "put_object",
            Params={"Bucket": storage.bucket_name, "Key": key, "ContentLength": size, **params},
            ExpiresIn=ttl,
        )
        answer["headers"] = _signed_headers(params, size)
    else:
        fields = _post_fields(params)
        conditions: list[Any] = [["content-length-range", 1, size or limit]]
        conditions += [{name: value} for name, value in fields.items()]
        post = client.generate_presigned_post(
            storage.bucket_name, key, Fields=fields, Conditions=conditions, ExpiresIn=ttl
        )
        answer["url"], answer["fields"] = post["url"], post["fields"]
    expires = timezone.now() + timedelta(seconds=ttl)
    answer["expiresAt"] = {"__type": "Date", "iso": format_iso(expires)}
    StoredFile.objects.create(
        name=name,
        original_name=str(body.get("name"))[:255],
        content_type=prepared.content_type,
        size=size,
        private=prepared.private,
        owner_id=ctx.user_id or "",
        metadata=prepared.metadata,
        tags=prepared.tags,
        storage_alias=alias,
        status=StoredFile.Status.PENDING,
        upload_expires_at=expires,
    )
    return answer


# boto3 parameter -> the HTTP header / POST form field S3 expects for it.
_HEADERS = {
    "ContentType": "Content-Type",
    "CacheControl": "Cache-Control",
    "ACL": "x-amz-acl",
    "ServerSideEncryption": "x-amz-server-side-encryption",
    "SSEKMSKeyId": "x-amz-server-side-encryption-aws-kms-key-id",
    "StorageClass": "x-amz-storage-class",
    "ContentDisposition": "Content-Disposition",
    "ContentEncoding": "Content-Encoding",
}


def _signed_headers(params: dict[str, Any], size: int | None) -> dict[str, str]:
    headers = {_HEADERS[k]: str(v) for k, v in params.items() if k in _HEADERS}
    if size is not None:
        headers["Content-Length"] = str(size)
    return headers


def _post_fields(params: dict[str, Any]) -> dict[str, str]:
    unsupported = sorted(set(params) - set(_HEADERS))
    if unsupported:
        raise names.save_error(
            "POST uploads cannot carry the storage's object parameters " + ", ".join(unsupported)
        )
    return {
        ("acl" if k == "ACL" else _HEADERS[k]): str(v) for k, v in params.items() if k in _HEADERS
    }


def complete(ctx: RequestContext, name: str) -> StoredFile:
    record = StoredFile.objects.filter(name=name).first()
    if record is None or (
        record.status != StoredFile.Status.PENDING
        or (not ctx.is_master and record.owner_id != (ctx.user_id or ""))
    ):
        raise ParseError(Code.FILE_SAVE_ERROR, "No pending upload with this name.")
    storage: Any = get_storage(record.storage_alias)
    head = _head(storage, name)
    if head is None:
        raise names.save_error("The file has not been uploaded yet.")
    size = int(head.get("ContentLength") or 0)
    limit = record.size or int(files_settings.get("DIRECT_MAX_SIZE"))
    problem = None
    if size == 0:
        problem = names.save_error("Invalid file upload.")
    elif size > limit:
        problem = writers.too_large(limit)
    elif names.media_type(head.get("ContentType") or "") != names.media_type(record.content_type):
        problem = names.save_error("The uploaded file's Content-Type does not match.")
    if problem is not None:
        # The bytes broke the terms the upload was granted on: they do not stay.
        service.remove(record, name)
        raise problem
    record.size = size
    record.checksum = "etag:" + str(head.get("ETag", "")).strip('"')
    record.status = StoredFile.Status.READY
    record.upload_expires_at = None
    record.save(update_fields=["size", "checksum", "status", "upload_expires_at"])
    hooks.triggers().after_save_file(ctx, service.describe_saved(record))
    return record


def _head(storage: Any, name: str) -> dict[str, Any] | None:
    from botocore.exceptions import ClientError

    try:
        return storage.connection.meta.client.head_object(
            Bucket=storage.bucket_name, Key=object_key(storage, name)
        )
    except ClientError as exc:
        if exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") == 404:
            return None
        raise
