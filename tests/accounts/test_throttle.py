"""Login throttling: per username, per client address, and shared by every worker."""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from django.core.cache import CacheHandler, caches
from django.test import override_settings

from backend_kit.accounts import throttle
from tests.conftest import ParseClient
from tests.support import kit

from .conftest import sign_up

pytestmark = pytest.mark.django_db

LIMITS = {"per_username": [3, 900], "per_ip": [50, 900]}
TOO_MANY = {"code": 155, "error": "Too many login attempts. Try again later."}


def attempt(username: str, password: str, ip: str = "10.0.0.1") -> Any:
    """A log-in from client address ``ip``."""
    client = ParseClient()
    client.client.defaults["REMOTE_ADDR"] = ip
    return client.post("login", {"username": username, "password": password})


def assert_throttled(response: Any, window: int = 900) -> None:
    assert response.status_code == 429, (response.status_code, response.json_body)
    assert response.json_body == TOO_MANY
    assert 0 < int(response["Retry-After"]) <= window


@override_settings(BACKEND_KIT=kit(LOGIN_THROTTLE=LIMITS))
def test_failed_logins_per_username() -> None:
    ada = sign_up("ada")
    for _ in range(3):
        assert attempt("ada", "wrong").json_body["code"] == 101
    # locked: even the right password, from another address, is refused until the window ends
    assert_throttled(attempt("ada", ada.password, ip="10.0.0.2"))
    assert_throttled(attempt("ADA", "wrong"))  # usernames match ignoring case
    assert_throttled(ParseClient().get("verifyPassword", username="ada", password=ada.password))
    # other users are not affected; unknown usernames are counted too
    assert sign_up("bob").client.get("users/me").status_code == 200
    assert attempt("bob", "bob-Pass-9").status_code == 200
    for _ in range(3):
        assert attempt("ghost", "x").json_body["code"] == 101
    assert_throttled(attempt("ghost", "x"))


@override_settings(BACKEND_KIT=kit(LOGIN_THROTTLE=LIMITS))
def test_a_successful_login_resets_the_username_count() -> None:
    ada = sign_up("ada")
    for _ in range(2):
        assert attempt("ada", "wrong").status_code == 404
    assert attempt("ada", ada.password).status_code == 200
    for _ in range(2):
        assert attempt("ada", "wrong").status_code == 404
    assert attempt("ada", ada.password).status_code == 200
    for _ in range(3):
        attempt("ada", "wrong")
    assert_throttled(attempt("ada", ada.password))


@override_settings(BACKEND_KIT=kit(LOGIN_THROTTLE={"per_username": None, "per_ip": [4, 60]}))
def test_attempts_per_client_address() -> None:
    ada = sign_up("ada")
    for name in ("ada", "bob", "cy"):
        attempt(name, "wrong", ip="10.1.1.1")
    assert attempt("ada", ada.password, ip="10.1.1.1").status_code == 200  # the fourth attempt
    assert_throttled(attempt("ada", ada.password, ip="10.1.1.1"), window=60)
    assert_throttled(attempt("zed", "x", ip="10.1.1.1"), window=60)
    assert attempt("ada", ada.password, ip="10.1.1.2").status_code == 200


@override_settings(BACKEND_KIT=kit(LOGIN_THROTTLE={"per_username": None, "per_ip": None}))
def test_throttling_can_be_turned_off() -> None:
    ada = sign_up("ada")
    for _ in range(30):
        assert attempt("ada", "wrong").status_code == 404
    assert attempt("ada", ada.password).status_code == 200


# --- cluster-wide: the counts live in the shared cache ----------------------------------------

REDIS = ("127.0.0.1", 6379)


def redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=1):
            return True
    except OSError:
        return False


@pytest.fixture
def redis_caches() -> Iterator[tuple[Any, Any]]:
    """Two separate Redis cache clients (two workers), on a key prefix of this run only."""
    if not redis_up():
        pytest.skip("needs Redis on 127.0.0.1:6379")
    config = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:6379/15",
            "KEY_PREFIX": f"bk-accounts-qa-{secrets.token_hex(6)}",
        }
    }
    with override_settings(CACHES=config, BACKEND_KIT=kit(LOGIN_THROTTLE=LIMITS)):
        first = caches["default"]
        second = CacheHandler(config)["default"]
        assert first is not second
        yield first, second
        # only this run's keys (never FLUSHDB: other runs may share the database)
        client = first._cache.get_client(write=True)
        for key in client.scan_iter(match=f"*{config['default']['KEY_PREFIX']}*"):
            client.delete(key)


def test_the_username_count_is_shared_by_every_worker(
    redis_caches: tuple[Any, Any], monkeypatch: Any
) -> None:
    first, second = redis_caches
    ada = sign_up("ada")
    # three failures, counted by two different workers' cache clients...
    for worker in (first, second, first):
        monkeypatch.setattr(throttle, "_cache", lambda worker=worker: worker)
        assert attempt("ada", "wrong").status_code == 404
    # ...lock the user out on either of them
    for worker in (first, second):
        monkeypatch.setattr(throttle, "_cache", lambda worker=worker: worker)
        assert_throttled(attempt("ada", ada.password))
    key, _ = throttle._key("per_username", "ada", 900)
    assert first.get(key) == second.get(key) == 3


def test_a_success_on_one_worker_resets_the_count_on_the_others(
    redis_caches: tuple[Any, Any], monkeypatch: Any
) -> None:
    first, second = redis_caches
    ada = sign_up("ada")
    monkeypatch.setattr(throttle, "_cache", lambda: first)
    for _ in range(2):
        attempt("ada", "wrong")
    monkeypatch.setattr(throttle, "_cache", lambda: second)
    assert attempt("ada", ada.password).status_code == 200
    monkeypatch.setattr(throttle, "_cache", lambda: first)
    for _ in range(2):
        assert attempt("ada", "wrong").status_code == 404
    assert attempt("ada", ada.password).status_code == 200


def test_a_cache_outage_does_not_lock_everybody_out(monkeypatch: Any) -> None:
    class Down:
        def __getattr__(self, name: str) -> Any:
            raise ConnectionError("cache down")

    ada = sign_up("ada")
    monkeypatch.setattr(throttle, "_cache", lambda: Down())
    with override_settings(BACKEND_KIT=kit(LOGIN_THROTTLE=LIMITS)):
        for _ in range(5):
            assert attempt("ada", "wrong").status_code == 404
        assert attempt("ada", ada.password).status_code == 200
