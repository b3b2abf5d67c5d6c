"""Real servers for the files tests, all on loopback.

* ``MotoServer``: ``moto_server`` (moto[server]) in its own process: the S3 endpoint.
* ``CdnStandIn``: a small CDN in front of the bucket, like CloudFront with signed URLs:
  it serves ``/<key>`` from the bucket, and checks CloudFront canned-policy signatures
  (RSA-SHA1 over ``{"Statement":[{"Resource":url,"Condition":{"DateLessThan":...}}]}``)
  with the public key it is given; objects written ``Cache-Control: private`` are only
  served with a valid, unexpired signature.
* ``AsgiServer``: uvicorn in a thread serving ``parse_application`` of the test project,
  so uploads go through the ASGI body limit, Django's request spooling and the views.
"""

from __future__ import annotations

import base64
import http.server
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.processes import free_port

VENV_BIN = Path(sys.executable).parent


def wait_for_port(port: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port}")


class MotoServer:
    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    @staticmethod
    def executable() -> str | None:
        path = VENV_BIN / "moto_server"
        return str(path) if path.exists() else None

    def start(self) -> None:
        exe = self.executable()
        assert exe is not None
        self.process = subprocess.Popen(
            [exe, "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(10)

    def client(self) -> Any:
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )


def cloudfront_b64decode(text: str) -> bytes:
    return base64.b64decode(text.replace("-", "+").replace("_", "=").replace("~", "/"))


class CdnStandIn:
    """Serves ``http://localhost:<port>/<key>`` from ``<s3>/<bucket>/<key>``."""

    def __init__(self, s3_url: str) -> None:
        self.s3_url = s3_url
        self.bucket = ""
        self.public_key: Any = None
        self.port = free_port()
        self.url = f"http://localhost:{self.port}"
        self.requests: list[str] = []
        self._server: http.server.ThreadingHTTPServer | None = None
        self._client: Any = None

    def start(self) -> None:
        cdn = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_HEAD(self) -> None:  # noqa: N802
                self.do_GET(head=True)

            def do_GET(self, head: bool = False) -> None:  # noqa: N802
                cdn.requests.append(self.path)
                status, headers, body = cdn.answer(self.path, self.headers.get("Range"))
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if not head:
                    self.wfile.write(body)

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    def _signature_problem(self, path: str, query: dict[str, list[str]]) -> str | None:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import padding

        try:
            expires = int(query["Expires"][0])
            signature = cloudfront_b64decode(query["Signature"][0])
            query["Key-Pair-Id"][0]
        except (KeyError, ValueError):
            return "missing signature"
        resource = f"{self.url}{path}"
        policy = json.dumps(
            {
                "Statement": [
                    {
                        "Resource": resource,
                        "Condition": {"DateLessThan": {"AWS:EpochTime": expires}},
                    }
                ]
            },
            separators=(",", ":"),
        ).encode()
        try:
            self.public_key.verify(signature, policy, padding.PKCS1v15(), hashes.SHA1())
        except InvalidSignature:
            return "bad signature"
        if expires < time.time():
            return "expired"
        return None

    def answer(self, raw_path: str, range_header: str | None) -> tuple[int, dict[str, str], bytes]:
        parts = urlsplit(raw_path)
        query = parse_qs(parts.query)
        signed = "Signature" in query
        if signed:
            problem = self._signature_problem(parts.path, query)
            if problem:
                return 403, {"Content-Type": "text/plain"}, problem.encode()
        # The origin is read with credentials, as CloudFront reads a private bucket (OAC).
        from botocore.exceptions import ClientError

        key = unquote(parts.path.lstrip("/"))
        extra = {"Range": range_header} if range_header else {}
        try:
            answer = self.s3_client().get_object(Bucket=self.bucket, Key=key, **extra)
        except ClientError as exc:
            status = int(exc.response["ResponseMetadata"]["HTTPStatusCode"])
            return status, {"Content-Type": "text/plain"}, b"origin error"
        cache_control = answer.get("CacheControl") or ""
        if cache_control.startswith("private") and not signed:
            return 403, {"Content-Type": "text/plain"}, b"signed URL required"
        headers = {
            "Content-Type": answer.get("ContentType", ""),
            "Cache-Control": cache_control,
            "ETag": answer.get("ETag", ""),
            "Content-Range": answer.get("ContentRange", ""),
            "Accept-Ranges": "bytes",
        }
        status = 206 if answer.get("ContentRange") else 200
        return status, {k: v for k, v in headers.items() if v}, answer["Body"].read()

    def s3_client(self) -> Any:
        if self._client is None:
            import boto3

            self._client = boto3.client(
                "s3",
                endpoint_url=self.s3_url,
                aws_access_key_id="testing",
                aws_secret_access_key="testing",
                region_name="us-east-1",
            )
        return self._client


class AsgiServer:
    """uvicorn serving the test project's ``parse_application`` in a thread."""

    def __init__(self) -> None:
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.url = self.origin + "/parse"
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        import uvicorn
        from django.core.asgi import get_asgi_application

        from backend_kit.routing import parse_application

        app = parse_application(get_asgi_application(), mount="/parse")
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="off"
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, daemon=True)
        self._thread.start()
        wait_for_port(self.port)

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(10)
