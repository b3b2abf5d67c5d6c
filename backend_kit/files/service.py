"""Creating and deleting files: the rules, the triggers, the storage and the record.

The views (and direct uploads, the admin, the clean-up) go through here, so every
path applies the same rules in the same order:

1. who may upload (130), the name (122), the extension and type rules (130, not for
   the master key), the declared size (130);
2. an empty upload is refused before anything is stored (130);
3. ``beforeSaveFile`` (may change the description or refuse);
4. the bytes are streamed into the storage (all or nothing), then the record is made;
5. ``afterSaveFile``.
"""

from __future__ import annotations

import contextlib
import logging
from dataclasses import dataclass, field
from typing import Any

from django.db import transaction

from ..context import RequestContext
from ..errors import Code, ParseError, master_key_required, permission_denied
from ..objects import hooks
from . import links, names, rules, writers
from . import settings as files_settings
from .models import StoredFile
from .storage import alias_for, get_storage

log = logging.getLogger("backend_kit.files")


@dataclass
class FileRequest:
    """What a client asked to store (before the rules and the trigger have run)."""

    name: Any
    content_type: Any = None
    metadata: Any = field(default_factory=dict)
    tags: Any = field(default_factory=dict)
    size: int | None = None  # declared (Content-Length, decoded base64, direct upload)
    directory: Any = None


@dataclass
class Prepared:
    ctx: RequestContext
    clean_name: str
    content_type: str
    metadata: dict[str, Any]
    tags: dict[str, Any]
    private: bool
    size: int | None

    def describe(self) -> dict[str, Any]:
        return {
            "name": self.clean_name,
            "contentType": self.content_type,
            "size": self.size,
            "metadata": self.metadata,
            "tags": self.tags,
            "private": self.private,
        }


def _object_or_empty(value: Any, what: str) -> dict[str, Any]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ParseError(Code.INVALID_JSON, f"File {what} must be an object.")
    return dict(value)


def prepare(ctx: RequestContext, req: FileRequest, *, limit: int) -> Prepared:
    """Steps 1: refuse what the rules refuse, before a byte of the body is read."""
    rules.check_may_upload(ctx)
    if req.directory is not None:
        if not ctx.is_master:
            raise ParseError(
                Code.OPERATION_FORBIDDEN, "Directory can only be set using the Master Key."
            )
        raise names.save_error("File directories are not supported.")
    clean = names.sanitize(req.name)
    content_type = names.check_content_type(req.content_type)
    if not ctx.is_master:
        names.check_extension(clean, content_type)
    clean, content_type = names.resolve_type(clean, content_type)
    if not ctx.is_master:
        names.check_allowed_type(content_type)
    if req.size is not None and req.size > limit:
        raise writers.too_large(limit)
    metadata = _object_or_empty(req.metadata, "metadata")
    tags = _object_or_empty(req.tags, "tags")
    return Prepared(
        ctx=ctx,
        clean_name=clean,
        content_type=content_type,
        metadata=metadata,
        tags=tags,
        private=rules.wants_private(ctx, metadata),
        size=req.size,
    )


def run_before_save(prepared: Prepared) -> Prepared:
    """``beforeSaveFile``: a handler may rename, retype, re-tag or refuse."""
    changed = hooks.triggers().before_save_file(prepared.ctx, prepared.describe())
    if not changed:
        return prepared
    prepared.clean_name = names.sanitize(changed.get("name", prepared.clean_name))
    content_type = names.check_content_type(changed.get("contentType", prepared.content_type))
    prepared.clean_name, prepared.content_type = names.resolve_type(
        prepared.clean_name, content_type
    )
    prepared.metadata = _object_or_empty(changed.get("metadata"), "metadata")
    prepared.tags = _object_or_empty(changed.get("tags"), "tags")
    prepared.private = bool(changed.get("private", prepared.private))
    return prepared


def cache_control(private: bool) -> str:
    if private:
        return files_settings.private_cache_control()
    return str(files_settings.get("PUBLIC_CACHE_CONTROL"))


def describe_saved(record: StoredFile) -> dict[str, Any]:
    return {
        "name": record.name,
        "url": links.url_for(record.name, private=record.private, alias=record.storage_alias),
        "contentType": record.content_type,
        "size": record.size,
        "metadata": record.metadata,
        "tags": record.tags,
        "private": record.private,
    }


def upload(ctx: RequestContext, req: FileRequest, source: writers.UploadSource) -> StoredFile:
    """Store an upload that streams through the app; returns its record."""
    prepared = prepare(ctx, req, limit=source.limit)
    if source.peek_empty():
        raise names.save_error("Invalid file upload.")
    prepared = run_before_save(prepared)
    alias = alias_for(prepared.private)
    storage = get_storage(alias)
    name = names.stored_name(prepared.clean_name)
    written = writers.write(
        storage,
        name,
        source,
        content_type=prepared.content_type,
        cache_control=cache_control(prepared.private),
    )
    try:
        record = StoredFile.objects.create(
            name=name,
            original_name=str(req.name)[:255],
            content_type=prepared.content_type,
            size=written.size,
            checksum=written.checksum,
            private=prepared.private,
            owner_id=ctx.user_id or "",
            metadata=prepared.metadata,
            tags=prepared.tags,
            storage_alias=alias,
        )
    except BaseException:
        with contextlib.suppress(Exception):
            storage.delete(name)
        raise
    hooks.triggers().after_save_file(ctx, describe_saved(record))
    return record


def find(name: str) -> StoredFile | None:
    return StoredFile.objects.filter(name=name).first()


def delete(ctx: RequestContext, name: str) -> None:
    """``DELETE /files/<name>`` (master key): the object in the storage and the record."""
    if ctx.is_read_only_master:
        raise permission_denied("read-only masterKey isn't allowed to delete a file.")
    if not ctx.is_master:
        raise master_key_required()
    record = find(name)
    if record is None and not _exists_unrecorded(name):
        raise ParseError(Code.FILE_DELETE_ERROR, "Could not delete file.")
    described = (
        describe_saved(record)
        if record is not None
        else {"name": name, "url": links.url_for(name, private=False)}
    )
    hooks.triggers().before_delete_file(ctx, described)
    remove(record, name)
    hooks.triggers().after_delete_file(ctx, described)


def _exists_unrecorded(name: str) -> bool:
    """A file in the storage without a record (written before the app kept records)."""
    if name.startswith(".") or names.extension_of(name) == "part":
        return False
    try:
        names.check_name(name)
        return get_storage().exists(name)
    except Exception:  # a name the storage cannot even look up is no file of ours
        return False


def remove(record: StoredFile | None, name: str) -> None:
    """Delete the bytes, then the record (no triggers: the admin and clean-up use this)."""
    storage = get_storage(record.storage_alias if record is not None else None)
    try:
        storage.delete(name)
    except Exception as exc:
        log.warning("could not delete file %s", name, exc_info=True)
        raise ParseError(Code.FILE_DELETE_ERROR, "Could not delete file.") from exc
    if record is not None:
        with transaction.atomic():
            StoredFile.objects.filter(pk=record.pk).delete()
    links.forget(name)
