"""Fixtures of the files tests: each storage the app supports, on real servers.

``backend`` runs a test twice: against the embedded default (local disk under a
temporary ``MEDIA_ROOT``; the ``backend_kit_files`` alias left undefined) and
against S3 (django-storages' ``S3Storage`` on ``moto_server`` over real HTTP, a fresh
bucket per test, a CDN stand-in in front of it with a CloudFront key pair).
"""

from __future__ import annotations

import contextlib
import secrets
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings

from tests.conftest import ParseClient
from tests.support import kit

from .servers import AsgiServer, CdnStandIn, MotoServer

DEFAULT_STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
CLOUDFRONT_KEY_ID = "KTESTCLOUDFRONT"


@pytest.fixture(scope="session")
def moto() -> Iterator[MotoServer]:
    if MotoServer.executable() is None:
        pytest.skip("moto[server] is not installed (pip install 'moto[server]')")
    server = MotoServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def cloudfront_key() -> tuple[str, Any]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    return pem, key.public_key()


@pytest.fixture(scope="session")
def cdn(moto: MotoServer, cloudfront_key: tuple[str, Any]) -> Iterator[CdnStandIn]:
    stand_in = CdnStandIn(moto.url)
    stand_in.public_key = cloudfront_key[1]
    stand_in.start()
    try:
        yield stand_in
    finally:
        stand_in.stop()


@pytest.fixture(scope="session")
def asgi_server(django_db_setup: Any, django_db_blocker: Any) -> Iterator[AsgiServer]:
    server = AsgiServer()
    with django_db_blocker.unblock():
        server.start()
    try:
        yield server
    finally:
        server.stop()


class Backend:
    """One storage configuration, and direct access to what it holds."""

    def __init__(self, kind: str, media_root: Path) -> None:
        self.kind = kind
        self.media_root = media_root
        self.bucket = ""
        self.moto: MotoServer | None = None
        self.cdn: CdnStandIn | None = None
        self.base_files: dict[str, Any] = {}

    @property
    def directory(self) -> Path:
        return self.media_root / "backend_kit_files"

    def storages(self) -> dict[str, Any]:
        if self.kind == "local":
            return dict(DEFAULT_STORAGES)
        assert self.moto is not None
        return {
            **DEFAULT_STORAGES,
            "backend_kit_files": {
                "BACKEND": "storages.backends.s3.S3Storage",
                "OPTIONS": {
                    "bucket_name": self.bucket,
                    "endpoint_url": self.moto.url,
                    "access_key": "testing",
                    "secret_key": "testing",
                    "region_name": "us-east-1",
                    "addressing_style": "path",
                    "signature_version": "s3v4",
                },
            },
        }

    @contextlib.contextmanager
    def files(self, server_url: str | None = None, **files: Any) -> Iterator[None]:
        """BACKEND_KIT["FILES"] (this backend's base plus ``files``) for a block."""
        extra: dict[str, Any] = {"FILES": {**self.base_files, **files}}
        if server_url is not None:
            extra["SERVER_URL"] = server_url
        with override_settings(BACKEND_KIT=kit(**extra)):
            yield

    # --- what is really stored ---------------------------------------------------------

    def stored(self, name: str) -> bytes | None:
        if self.kind == "local":
            path = self.directory / name
            return path.read_bytes() if path.exists() else None
        assert self.moto is not None
        client = self.moto.client()
        try:
            return client.get_object(Bucket=self.bucket, Key=name)["Body"].read()
        except client.exceptions.NoSuchKey:
            return None

    def head(self, name: str) -> dict[str, Any]:
        assert self.kind == "s3" and self.moto is not None
        return self.moto.client().head_object(Bucket=self.bucket, Key=name)

    def everything(self) -> list[str]:
        """Every stored key or file (temporary ones included): for "nothing stored" checks."""
        if self.kind == "local":
            if not self.directory.exists():
                return []
            return sorted(
                str(p.relative_to(self.directory)) for p in self.directory.rglob("*") if p.is_file()
            )
        assert self.moto is not None
        client = self.moto.client()
        keys = [o["Key"] for o in client.list_objects_v2(Bucket=self.bucket).get("Contents", [])]
        uploads = client.list_multipart_uploads(Bucket=self.bucket).get("Uploads", [])
        return sorted(keys + [f"multipart:{u['Key']}" for u in uploads])


def _make_backend(request: Any, kind: str, tmp_path: Path) -> Iterator[Backend]:
    backend = Backend(kind, tmp_path / "media")
    if kind == "s3":
        backend.moto = request.getfixturevalue("moto")
        backend.cdn = request.getfixturevalue("cdn")
        pem = request.getfixturevalue("cloudfront_key")[0]
        backend.bucket = f"bk-files-{secrets.token_hex(6)}"
        backend.moto.client().create_bucket(Bucket=backend.bucket)
        backend.cdn.bucket = backend.bucket
        backend.base_files = {
            "CDN_URL": backend.cdn.url,
            "CLOUDFRONT_KEY_ID": CLOUDFRONT_KEY_ID,
            "CLOUDFRONT_KEY": pem,
        }
    with override_settings(
        MEDIA_ROOT=str(backend.media_root),
        STORAGES=backend.storages(),
        BACKEND_KIT=kit(FILES=backend.base_files),
    ):
        yield backend


@pytest.fixture(params=["local", "s3"])
def backend(request: Any, tmp_path: Path) -> Iterator[Backend]:
    yield from _make_backend(request, request.param, tmp_path)


@pytest.fixture
def local(request: Any, tmp_path: Path) -> Iterator[Backend]:
    yield from _make_backend(request, "local", tmp_path)


@pytest.fixture
def s3(request: Any, tmp_path: Path) -> Iterator[Backend]:
    yield from _make_backend(request, "s3", tmp_path)


@pytest.fixture(autouse=True)
def _no_files_in_the_working_directory(tmp_path: Path) -> Iterator[None]:
    # A test that forgets its backend still writes under tmp_path, never into the repo.
    if "backend_kit_files" in getattr(settings, "STORAGES", {}) or settings.MEDIA_ROOT:
        yield
        return
    with override_settings(MEDIA_ROOT=str(tmp_path / "stray-media")):
        yield


def sign_up(api: ParseClient) -> ParseClient:
    name = "u" + uuid.uuid4().hex[:12]
    r = api.post("users", {"username": name, "password": "pw-" + name})
    assert r.status_code == 201, r.json_body
    return ParseClient(session_token=r.json_body["sessionToken"])


def anonymous(api: ParseClient) -> ParseClient:
    r = api.post("users", {"authData": {"anonymous": {"id": str(uuid.uuid4())}}})
    assert r.status_code == 201, r.json_body
    return ParseClient(session_token=r.json_body["sessionToken"])
