"""Fixtures of the push tests: the three provider stand-ins with real credentials.

* APNs: an ES256 signing key (``.p8``), key id and team id; the stand-in checks the
  provider tokens aioapns makes from them. The transport's ``HOST``/``PORT`` point
  aioapns at it; ``CA_FILE`` makes it trust the test CA.
* FCM: a service account (RSA key) whose ``token_uri`` is the stand-in's OAuth
  endpoint; the transport's ``ENDPOINT`` points firebase-admin at its FCM v1 API.
* Web Push: a VAPID key pair; subscriptions are made at the stand-in (HTTPS with
  the test CA), which checks VAPID and keeps the encrypted payloads.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from backend_kit.jobs import inprocess
from backend_kit.push import status as push_status
from tests.stand_ins.apns import APNsStandIn
from tests.stand_ins.fcm import FCMStandIn
from tests.stand_ins.push_tls import TestCA, make_ca
from tests.stand_ins.webpush import WebPushStandIn, b64url

TEAM_ID = "TEAM123456"
KEY_ID = "KEY1234567"
TOPIC = "com.example.pushapp"
PROJECT_ID = "bk-push-tests"
CLIENT_EMAIL = "push-sender@bk-push-tests.iam.gserviceaccount.com"
RECORDING = {"BACKEND": "backend_kit.push.transports.local.RecordingTransport"}


def _pem(key: Any) -> str:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()


@pytest.fixture(scope="session")
def test_ca() -> TestCA:
    return make_ca()


@pytest.fixture(scope="session")
def apns_key(test_ca: TestCA) -> tuple[Path, Any]:
    key = ec.generate_private_key(ec.SECP256R1())
    path = test_ca.directory / f"AuthKey_{KEY_ID}.p8"
    path.write_text(_pem(key))
    return path, key.public_key()


@pytest.fixture(scope="session")
def apns_server(test_ca: TestCA, apns_key: tuple[Path, Any]) -> Iterator[APNsStandIn]:
    server = APNsStandIn(
        test_ca, team_id=TEAM_ID, key_id=KEY_ID, public_key=apns_key[1], topic=TOPIC
    ).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def fcm_key() -> Any:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture(scope="session")
def fcm_server(fcm_key: Any) -> Iterator[FCMStandIn]:
    server = FCMStandIn(
        project_id=PROJECT_ID, client_email=CLIENT_EMAIL, public_key=fcm_key.public_key()
    ).start()
    yield server  # type: ignore[misc]
    server.stop()


@pytest.fixture(scope="session")
def service_account(fcm_key: Any, fcm_server: FCMStandIn) -> dict[str, Any]:
    return {
        "type": "service_account",
        "project_id": PROJECT_ID,
        "private_key_id": secrets.token_hex(20),
        "private_key": _pem(fcm_key),
        "client_email": CLIENT_EMAIL,
        "client_id": "100000000000000000001",
        "token_uri": fcm_server.token_uri,
    }


@pytest.fixture(scope="session")
def vapid_key() -> tuple[str, str]:
    """(private key PEM, application server key as browsers get it)."""
    key = ec.generate_private_key(ec.SECP256R1())
    public = key.public_key().public_bytes(
        serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
    )
    return _pem(key), b64url(public)


@pytest.fixture(scope="session")
def webpush_server(test_ca: TestCA, vapid_key: tuple[str, str]) -> Iterator[WebPushStandIn]:
    server = WebPushStandIn(test_ca, application_server_key=vapid_key[1]).start()
    yield server  # type: ignore[misc]
    server.stop()


@pytest.fixture
def providers(
    test_ca: TestCA,
    apns_key: tuple[Path, Any],
    apns_server: APNsStandIn,
    fcm_server: FCMStandIn,
    service_account: dict[str, Any],
    webpush_server: WebPushStandIn,
    vapid_key: tuple[str, str],
) -> dict[str, Any]:
    """``PUSH["TRANSPORTS"]`` with the real transports pointed at the stand-ins."""
    for server in (apns_server, fcm_server, webpush_server):
        server.reset()
    return {
        "ios": {
            "BACKEND": "backend_kit.push.transports.apns.APNsTransport",
            "OPTIONS": {
                "KEY_FILE": str(apns_key[0]),
                "KEY_ID": KEY_ID,
                "TEAM_ID": TEAM_ID,
                "TOPIC": TOPIC,
                "HOST": "localhost",
                "PORT": apns_server.port,
                "CA_FILE": str(test_ca.ca_file),
                "TIMEOUT": 10,
                "CONNECT_ATTEMPTS": 1,
            },
        },
        "android": {
            "BACKEND": "backend_kit.push.transports.fcm.FCMTransport",
            "OPTIONS": {"CREDENTIALS": service_account, "ENDPOINT": fcm_server.endpoint},
        },
        "web": {
            "BACKEND": "backend_kit.push.transports.webpush.WebPushTransport",
            "OPTIONS": {
                "VAPID_PRIVATE_KEY": vapid_key[0],
                "VAPID_CLAIMS": {"sub": "mailto:ops@example.com"},
                "CA_FILE": str(test_ca.ca_file),
            },
        },
    }


def push_kit(settings: Any, transports: dict[str, Any], **push: Any) -> None:
    settings.BACKEND_KIT = {
        **settings.BACKEND_KIT,
        "JOBS_RUNNER": "thread",
        "PUSH": {"TRANSPORTS": transports, "RETRY_BACKOFF": 0.2, **push},
    }


@pytest.fixture
def thread_push(
    settings: Any, transactional_db: Any, providers: dict[str, Any]
) -> Iterator[Callable[..., None]]:
    """Real transports, sending in threads of the test process; returns a function to
    change the PUSH settings of the test (``BATCH_SIZE=2``, ...)."""

    def configure(**push: Any) -> None:
        push_kit(settings, providers, **push)

    configure()
    yield configure
    assert inprocess.join(timeout=120), "push threads still running after the test"


@pytest.fixture
def recording_push(settings: Any, transactional_db: Any) -> Iterator[None]:
    push_kit(settings, dict.fromkeys(("ios", "android", "web"), RECORDING))
    yield
    assert inprocess.join(timeout=60), "push threads still running after the test"


def ios_token() -> str:
    return secrets.token_hex(32)


def android_token() -> str:
    return f"{secrets.token_urlsafe(16)}:APA91b{secrets.token_urlsafe(96)}"


def finished(status_id: str, timeout: float = 120) -> dict[str, Any]:
    """The push status once every push thread is done and the push has ended."""
    deadline = time.monotonic() + timeout
    while True:
        assert inprocess.join(timeout=timeout), "push threads still running"
        data = push_status.read(status_id)
        assert data is not None, f"no _PushStatus {status_id}"
        if data.get("status") in push_status.FINAL:
            return data
        if time.monotonic() > deadline:
            pytest.fail(f"push {status_id} did not finish: {data}")
        time.sleep(0.1)
