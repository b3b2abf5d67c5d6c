"""The URL a client gets for a file: public (CDN or app) or signed and expiring (private).

* Public file: ``CDN_URL/<object key>`` when a CDN is configured; else the app's URL
  ``{SERVER_URL}/files/{APP_ID}/{name}`` for local disk (Parse Server's shape, which
  the SDKs expect), or the storage's own URL (an S3 ``custom_domain``) for S3.
* Private file: a CloudFront signed URL on the CDN (with a CloudFront key), an S3
  presigned URL (S3 without one), or the app's URL with ``expires`` and ``signature``
  query parameters (local disk), all valid ``SIGNED_URL_TTL`` seconds.

The objects app calls :func:`resolve` for every ``{"__type": "File"}`` it encodes.
Whether a file is private and where it lives is looked up once and cached: both are
fixed when the file is created.
"""

from __future__ import annotations

import hmac
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import quote, urlencode

from django.core.exceptions import SynchronousOnlyOperation
from django.core.files.storage import Storage
from django.core.signals import setting_changed
from django.utils.crypto import salted_hmac

from ..conf import bk_settings
from . import settings as files_settings
from .storage import current_alias, get_storage, is_local, is_s3, object_key

SIGNATURE_SALT = "backend_kit.files.url"


def app_url(name: str) -> str:
    """The app's own URL of a file (what Parse Server hands out)."""
    from ..serverurl import server_url

    base = server_url()
    return f"{base}/files/{quote(str(bk_settings.APP_ID or ''), safe='')}/{quote(name)}"


# --- signatures of app URLs (private files on local disk) ---------------------------


def app_signature(name: str, expires: int) -> str:
    return salted_hmac(SIGNATURE_SALT, f"{name}\n{expires}", algorithm="sha256").hexdigest()


def signed_app_url(name: str, ttl: int, now: float | None = None) -> str:
    expires = int((time.time() if now is None else now) + ttl)
    query = urlencode({"expires": expires, "signature": app_signature(name, expires)})
    return f"{app_url(name)}?{query}"


def check_app_signature(name: str, expires: Any, signature: Any, now: float | None = None) -> str:
    """``"ok"``, ``"expired"`` or ``"invalid"``."""
    try:
        expires_at = int(expires)
    except (TypeError, ValueError):
        return "invalid"
    if not isinstance(signature, str) or not hmac.compare_digest(
        signature, app_signature(name, expires_at)
    ):
        return "invalid"
    if expires_at < (time.time() if now is None else now):
        return "expired"
    return "ok"


# --- CDN and S3 ------------------------------------------------------------------------


def cdn_base(storage: Storage) -> str | None:
    """Base URL of the CDN (``CDN_URL``, or an S3 storage's ``custom_domain``)."""
    configured = files_settings.get("CDN_URL")
    if configured:
        return str(configured).rstrip("/")
    domain = getattr(storage, "custom_domain", None) if is_s3(storage) else None
    if domain:
        return f"{storage.url_protocol}//{domain}"  # type: ignore[attr-defined]
    return None


def cloudfront_signer(storage: Storage) -> Any:
    """A botocore ``CloudFrontSigner`` from ``FILES`` or the S3 storage's options, or None."""
    key_id = files_settings.get("CLOUDFRONT_KEY_ID")
    key = files_settings.get("CLOUDFRONT_KEY")
    if key_id and key:
        return _signer(str(key_id), key if isinstance(key, bytes) else str(key).encode())
    return getattr(storage, "cloudfront_signer", None) if is_s3(storage) else None


@lru_cache(maxsize=4)
def _signer(key_id: str, pem: bytes) -> Any:
    from botocore.signers import CloudFrontSigner
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import padding
    from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey

    private_key = serialization.load_pem_private_key(pem, password=None)
    if not isinstance(private_key, RSAPrivateKey):
        raise ValueError("CLOUDFRONT_KEY must be an RSA private key")

    def rsa_sign(message: bytes) -> bytes:
        # CloudFront verifies RSA-SHA1 signatures of its policies.
        return private_key.sign(message, padding.PKCS1v15(), hashes.SHA1())

    return CloudFrontSigner(key_id, rsa_sign)


def s3_presigned_get(storage: Any, name: str, ttl: int) -> str:
    return storage.connection.meta.client.generate_presigned_url(
        "get_object",
        Params={"Bucket": storage.bucket_name, "Key": object_key(storage, name)},
        ExpiresIn=ttl,
    )


def public_url(name: str, storage: Storage) -> str:
    base = cdn_base(storage)
    if base:
        return f"{base}/{quote(object_key(storage, name))}"
    if is_local(storage):
        return app_url(name)
    if is_s3(storage):
        # Without a CDN a public file is read straight from the bucket: an unsigned URL.
        client = storage.unsigned_connection.meta.client  # type: ignore[attr-defined]
        return client.generate_presigned_url(
            "get_object",
            Params={"Bucket": storage.bucket_name, "Key": object_key(storage, name)},  # type: ignore[attr-defined]
        )
    return storage.url(name)


def private_url(
    name: str, storage: Storage, ttl: int | None = None, now: float | None = None
) -> str:
    ttl = int(files_settings.get("SIGNED_URL_TTL")) if ttl is None else ttl
    if is_local(storage):
        return signed_app_url(name, ttl, now)
    base = cdn_base(storage)
    signer = cloudfront_signer(storage) if base else None
    if signer is not None:
        expires = datetime.fromtimestamp((time.time() if now is None else now) + ttl, tz=UTC)
        return signer.generate_presigned_url(
            f"{base}/{quote(object_key(storage, name))}", date_less_than=expires
        )
    if is_s3(storage):
        return s3_presigned_get(storage, name, ttl)
    return storage.url(name)


# --- the resolver used when objects are encoded ----------------------------------------


@lru_cache(maxsize=20000)
def file_facts(name: str) -> tuple[bool, str] | None:
    """``(private, storage alias)`` of a known file, None for names without a record."""
    from .models import StoredFile

    row = StoredFile.objects.filter(name=name).values_list("private", "storage_alias").first()
    return (bool(row[0]), str(row[1])) if row else None


def forget(name: str | None = None) -> None:
    """Drop cached facts (all of them without a name)."""
    file_facts.cache_clear()


def _reset(*, setting: str, **kwargs: Any) -> None:
    if setting in ("BACKEND_KIT", "STORAGES", "MEDIA_ROOT", "SECRET_KEY"):
        forget()


setting_changed.connect(_reset)


def url_for(name: str, *, private: bool, alias: str | None = None) -> str:
    storage = get_storage(alias or current_alias())
    return private_url(name, storage) if private else public_url(name, storage)


def resolve(name: str) -> str | None:
    """The live URL of a file named in an object (installed as the objects' resolver)."""
    if not isinstance(name, str) or not name:
        return None
    try:
        facts = file_facts(name)
    except SynchronousOnlyOperation:  # encoded inside an event loop: no lookup possible
        facts = None
    if facts is None:
        return url_for(name, private=False)
    private, alias = facts
    return url_for(name, private=private, alias=alias)
