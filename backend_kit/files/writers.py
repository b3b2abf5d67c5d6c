"""Writing an upload into a storage as it streams in, all or nothing.

The bytes are read in blocks of ``PART_SIZE`` (never the whole body), counted and
hashed on the way. Over ``MAX_SIZE`` the read stops (at most one byte past the limit
is read) and whatever was written is thrown away:

* S3: one ``PutObject`` for a small file, else a multipart upload that is aborted
  on any failure, so no object ever becomes visible half-written;
* local disk: a temporary file beside the storage's files, renamed into place only
  when complete;
* any other storage: ``storage.save()``, and ``storage.delete()`` if it fails.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import IO, Any, cast

from django.core.files.storage import Storage

from ..errors import ParseError
from . import settings as files_settings
from .names import save_error
from .storage import is_local, is_s3, object_key

log = logging.getLogger("backend_kit.files")

PARTIAL_DIRECTORY = ".partial"


def too_large(limit: int) -> ParseError:
    return save_error(f"File size exceeds maximum allowed: {limit} bytes.", status=413)


class UploadSource:
    """Blocks of an upload, read from ``read(n)``; counts, hashes and enforces ``limit``."""

    def __init__(self, read: Callable[[int], bytes], limit: int) -> None:
        self._read = read
        self.limit = limit
        self.size = 0
        self._sha256 = hashlib.sha256()
        self._pending = b""
        self._eof = False

    def _read_some(self, n: int) -> bytes:
        try:
            return self._read(n)
        except OSError as exc:  # the client went away mid-upload
            raise save_error("The upload was interrupted.") from exc

    def read(self, n: int) -> bytes:
        """Up to ``n`` bytes; fewer only at the end of the upload."""
        parts: list[bytes] = []
        wanted = n
        if self._pending:
            parts.append(self._pending[:wanted])
            self._pending = self._pending[wanted:]
            wanted -= len(parts[0])
        while wanted > 0 and not self._eof:
            # Never ask for more than one byte past the limit: an oversize upload is
            # cut off there, without reading (or storing) the rest.
            ask = min(wanted, self.limit + 1 - self.size - (n - wanted))
            if ask <= 0:
                raise too_large(self.limit)
            data = self._read_some(ask)
            if not data:
                self._eof = True
                break
            parts.append(data)
            wanted -= len(data)
        block = b"".join(parts)
        self.size += len(block)
        if self.size > self.limit:
            raise too_large(self.limit)
        self._sha256.update(block)
        return block

    def peek_empty(self) -> bool:
        """Whether the upload has no bytes at all (read ahead at most one block)."""
        if self._pending:
            return False
        data = self._read_some(1)
        if not data:
            self._eof = True
            return True
        self._pending = data
        return False

    @property
    def checksum(self) -> str:
        return "sha256:" + self._sha256.hexdigest()


@dataclass
class Written:
    size: int
    checksum: str


def write(
    storage: Storage, name: str, source: UploadSource, *, content_type: str, cache_control: str
) -> Written:
    """Store the whole upload under ``name``, or nothing (and re-raise) on any failure."""
    if is_s3(storage):
        _write_s3(storage, name, source, content_type, cache_control)
    elif is_local(storage):
        _write_local(storage, name, source)
    else:
        _write_generic(storage, name, source, content_type)
    return Written(source.size, source.checksum)


def s3_write_parameters(
    storage: Any, key: str, content_type: str, cache_control: str
) -> dict[str, Any]:
    """``PutObject`` parameters: the storage's own (ACL, encryption...) plus ours."""
    params = dict(storage.get_object_parameters(key))
    if "ACL" not in params and storage.default_acl:
        params["ACL"] = storage.default_acl
    params["ContentType"] = content_type
    params["CacheControl"] = cache_control
    return params


def _write_s3(
    storage: Any, name: str, source: UploadSource, content_type: str, cache_control: str
) -> None:
    key = object_key(storage, name)
    client = storage.connection.meta.client
    bucket = storage.bucket_name
    params = s3_write_parameters(storage, key, content_type, cache_control)
    part_size = files_settings.part_size()
    block = source.read(part_size)
    if len(block) < part_size:
        client.put_object(Bucket=bucket, Key=key, Body=block, **params)
        return
    upload_id = client.create_multipart_upload(Bucket=bucket, Key=key, **params)["UploadId"]
    parts: list[dict[str, Any]] = []
    try:
        while block:
            number = len(parts) + 1
            answer = client.upload_part(
                Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=block
            )
            parts.append({"ETag": answer["ETag"], "PartNumber": number})
            block = b""  # let the last part go before reading the next one
            block = source.read(part_size)
        client.complete_multipart_upload(
            Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": parts}
        )
    except BaseException:
        try:
            client.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
        except Exception:  # the original failure matters more
            log.warning("could not abort multipart upload of %s", key, exc_info=True)
        raise


def _write_local(storage: Any, name: str, source: UploadSource) -> None:
    path = storage.path(name)
    partial_dir = os.path.join(storage.location, PARTIAL_DIRECTORY)
    for directory in (os.path.dirname(path), partial_dir):
        if storage.directory_permissions_mode is not None:
            # as FileSystemStorage does: the mode applies to every directory it creates
            old_umask = os.umask(0o777 & ~storage.directory_permissions_mode)
            try:
                os.makedirs(directory, storage.directory_permissions_mode, exist_ok=True)
            finally:
                os.umask(old_umask)
        else:
            os.makedirs(directory, exist_ok=True)
    partial = os.path.join(partial_dir, f"{secrets.token_hex(8)}.part")
    part_size = files_settings.part_size()
    try:
        with open(partial, "xb") as handle:
            while block := source.read(part_size):
                handle.write(block)
        if storage.file_permissions_mode is not None:
            os.chmod(partial, storage.file_permissions_mode)
        os.replace(partial, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(partial)
        raise


class _SourceReader:
    """A file-like view of an upload for ``Storage.save()`` (no seek: read once)."""

    def __init__(self, source: UploadSource, name: str, content_type: str) -> None:
        self.source = source
        self.name = name
        self.content_type = content_type

    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            chunks = []
            while block := self.source.read(files_settings.part_size()):
                chunks.append(block)
            return b"".join(chunks)
        return self.source.read(n)


def _write_generic(storage: Storage, name: str, source: UploadSource, content_type: str) -> None:
    from django.core.files import File

    try:
        reader = cast(IO[bytes], _SourceReader(source, name, content_type))
        saved = storage.save(name, File(reader, name=name))
    except BaseException:
        with contextlib.suppress(Exception):
            storage.delete(name)
        raise
    if saved != name:  # the storage picked another name: refuse rather than lose track
        storage.delete(saved)
        raise save_error(f"Could not store file: {name}.")
