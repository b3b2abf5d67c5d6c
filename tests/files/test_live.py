"""End to end over real HTTP: uvicorn serving the app, the Parse JS SDK uploading,
the returned URLs fetched like a browser would, and oversize uploads cut off early.
Each test runs against local disk and against S3 (moto) behind the CDN stand-in."""

from __future__ import annotations

import json
import os
import socket
import subprocess
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from backend_kit.files.models import StoredFile
from tests.conftest import APP_ID, MASTER_KEY
from tests.support import sdk_node

from .conftest import Backend
from .servers import AsgiServer

pytestmark = [pytest.mark.slow, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
SDK_DIR = ROOT / "tests" / "sdk"
SCRIPT = Path(__file__).with_name("js") / "sdk_files.mjs"
MiB = 1024 * 1024


def run_sdk(server: AsgiServer, payload: Path) -> dict[str, Any]:
    node = sdk_node()
    env = {
        **os.environ,
        "PARSE_SERVER_URL": server.url,
        "PARSE_APP_ID": APP_ID,
        "PARSE_JAVASCRIPT_KEY": "test-js-key",
        "PARSE_MASTER_KEY": MASTER_KEY,
        "SDK_DIR": str(SDK_DIR),
        "PAYLOAD": str(payload),
    }
    done = subprocess.run([node, str(SCRIPT)], env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout)


def test_js_sdk_uploads_and_the_urls_serve_the_bytes(
    backend: Backend, asgi_server: AsgiServer, tmp_path: Path
) -> None:
    payload = tmp_path / "payload.bin"
    payload.write_bytes(os.urandom(300 * 1024))
    with backend.files(server_url=asgi_server.url):
        out = run_sdk(asgi_server, payload)

        assert out["publicRefused"] == {
            "code": 130,
            "message": "File upload by public is disabled.",
        }
        assert out["anonymousRefused"] == {
            "code": 130,
            "message": "File upload by anonymous user is disabled.",
        }
        assert out["htmlRefused"] == {
            "code": 130,
            "message": "File upload of extension html is disabled.",
        }

        raw = out["raw"]
        assert raw["name"].endswith("_photo.png") and len(raw["name"]) == 32 + 1 + 9
        if backend.kind == "local":
            assert raw["url"] == f"{asgi_server.url}/files/{APP_ID}/{raw['name']}"
        else:
            assert backend.cdn is not None
            assert urlsplit(raw["url"]).netloc == urlsplit(backend.cdn.url).netloc
        fetched = httpx.get(raw["url"])
        assert fetched.status_code == 200 and fetched.content == payload.read_bytes()
        assert fetched.headers["content-type"] == "image/png"
        assert fetched.headers["cache-control"] == "public, max-age=31536000, immutable"
        ranged = httpx.get(raw["url"], headers={"Range": "bytes=1000-1999"})
        assert ranged.status_code == 206 and ranged.content == payload.read_bytes()[1000:2000]

        assert httpx.get(out["json"]["url"]).content == payload.read_bytes()
        record = StoredFile.objects.get(name=out["json"]["name"])
        assert record.metadata == {"owner": "sdk", "pages": 3} and record.tags == {"kind": "test"}
        assert httpx.get(out["base64"]["url"]).content == b"hello from base64"
        assert httpx.get(out["bytes"]["url"]).content == bytes([61, 170, 236, 120])

        assert out["object"] == raw

        assert backend.stored(out["deleted"]["name"]) is None
        assert not StoredFile.objects.filter(name=out["deleted"]["name"]).exists()
        assert out["deleteAgain"]["code"] == 153


def _raw_request(port: int, head: bytes, body_chunks: Any) -> tuple[bytes, int]:
    """Send a request by hand; returns (what the server answered, body bytes sent)."""
    sent = 0
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(head)
        try:
            for chunk in body_chunks:
                sock.sendall(chunk)
                sent += len(chunk)
        except (BrokenPipeError, ConnectionResetError):
            pass
        answer = b""
        try:
            while data := sock.recv(65536):
                answer += data
        except (ConnectionResetError, TimeoutError):
            pass
    return answer, sent


def _headers(path: str, extra: str) -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Parse-Application-Id: {APP_ID}\r\n"
        f"X-Parse-Master-Key: {MASTER_KEY}\r\nContent-Type: application/octet-stream\r\n"
        f"{extra}Connection: close\r\n\r\n"
    ).encode()


def _chunked(total: int, size: int = 256 * 1024) -> Any:
    block = b"\xab" * size
    for _ in range(total // size):
        yield f"{size:x}\r\n".encode() + block + b"\r\n"
    yield b"0\r\n\r\n"


def test_oversize_uploads_are_cut_off_and_nothing_is_stored(
    backend: Backend, asgi_server: AsgiServer
) -> None:
    path = "/parse/files/big.bin"
    with backend.files(server_url=asgi_server.url, MAX_SIZE=6 * MiB, PART_SIZE=5 * MiB):
        # Declared too large: answered before a byte of the body is read.
        answer, _ = _raw_request(
            asgi_server.port, _headers(path, f"Content-Length: {64 * MiB}\r\n"), [b"x" * 10]
        )
        assert answer.startswith(b"HTTP/1.1 413")

        # Streamed without a length, a little over the limit: the view counts the bytes
        # and stops one past the limit; the S3 multipart upload already begun is aborted.
        answer, _ = _raw_request(
            asgi_server.port, _headers(path, "Transfer-Encoding: chunked\r\n"), _chunked(7 * MiB)
        )
        assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
        body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
        assert body == {
            "code": 130,
            "error": f"File size exceeds maximum allowed: {6 * MiB} bytes.",
        }

        # Streamed far over: the ASGI layer stops reading long before the end.
        answer, sent = _raw_request(
            asgi_server.port, _headers(path, "Transfer-Encoding: chunked\r\n"), _chunked(256 * MiB)
        )
        assert sent < 64 * MiB
        if answer:
            assert answer.startswith(b"HTTP/1.1 413"), answer[:200]

        # A file right at the limit still goes through.
        answer, _ = _raw_request(
            asgi_server.port, _headers(path, "Transfer-Encoding: chunked\r\n"), _chunked(6 * MiB)
        )
        assert answer.startswith(b"HTTP/1.1 201"), answer[:300]
    stored = StoredFile.objects.get()
    assert stored.size == 6 * MiB
    assert backend.everything() == [stored.name]
