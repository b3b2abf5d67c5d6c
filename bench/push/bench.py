#!/usr/bin/env python3
"""Push benchmark: one push to N installations, sent by a real Celery worker.

For each N in ``--installations`` and each ``--transports`` mode, on a scratch
PostgreSQL database: N installations (ios, android, web in turn, each with a real
token; web ones with a real subscription) are written straight into the objects
table, a ``celery worker`` (prefork, ``--concurrency`` processes) is started, and
``manage.py bk_sendpush --where {} --badge Increment`` sends one push to all of
them. Reported: the time from the ``_PushStatus`` being written to it succeeding
(server-side timestamps), installations per second, and the peak resident memory
(RSS) of the worker's main process and of its busiest pool process, sampled every
0.2 s, with the kernel's high-water mark of the pool processes at the end.

Transport modes:

* ``providers``: APNs (aioapns, HTTP/2 + TLS), FCM v1 (firebase-admin, OAuth) and
  Web Push (pywebpush, aes128gcm + VAPID) to the stand-ins of ``tests/stand_ins`` in
  this process, which check every request (tokens, JWTs, VAPID);
* ``logging``: the logging transport (nothing leaves): the pipeline's own cost.

Everything is on loopback; Redis database 12 is the broker.

    .venv/bin/python bench/push/bench.py --installations 10000,100000
"""

from __future__ import annotations

import argparse
import io
import json
import os
import secrets
import signal
import string
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psutil
import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.realtime.harness import DEFAULT_DATABASE_URL, _with_database  # noqa: E402

ALPHABET = string.ascii_letters + string.digits
KINDS = ("ios", "android", "web")


def object_id() -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(10))


@contextmanager
def scratch_database() -> Iterator[str]:
    base = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    admin = _with_database(base, "postgres").replace("postgres://", "postgresql://", 1)
    name = f"bk_push_bench_{os.getpid()}_{secrets.token_hex(3)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    url = _with_database(base, name)
    try:
        env = {**os.environ, **driver_env(url, {}, "unused")}
        done = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode != 0:
            raise RuntimeError("migrate failed:\n" + done.stdout + done.stderr)
        yield url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def driver_env(database_url: str, push: dict[str, Any], queue: str) -> dict[str, str]:
    return {
        "DJANGO_SETTINGS_MODULE": "bench.push.settings",
        "BENCH_PUSH_DATABASE_URL": database_url,
        "BENCH_PUSH_PUSH": json.dumps({**push, "QUEUE": queue}),
        "BENCH_PUSH_QUEUE": queue,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
    }


# --- the providers ----------------------------------------------------------------------


class Providers:
    """The three stand-ins and the transports pointed at them."""

    def __init__(self) -> None:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ec, rsa

        from tests.stand_ins.apns import APNsStandIn
        from tests.stand_ins.fcm import FCMStandIn
        from tests.stand_ins.push_tls import make_ca
        from tests.stand_ins.webpush import WebPushStandIn, b64url

        def pem(key: Any) -> str:
            return key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ).decode()

        self.ca = make_ca()
        apns_key = ec.generate_private_key(ec.SECP256R1())
        key_file = self.ca.directory / "AuthKey.p8"
        key_file.write_text(pem(apns_key))
        self.apns = APNsStandIn(
            self.ca,
            team_id="TEAMBENCH1",
            key_id="KEYBENCH01",
            public_key=apns_key.public_key(),
            topic="com.example.bench",
        ).start()
        fcm_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        email = "bench@bk-bench.iam.gserviceaccount.com"
        self.fcm = FCMStandIn(
            project_id="bk-bench", client_email=email, public_key=fcm_key.public_key()
        ).start()
        vapid = ec.generate_private_key(ec.SECP256R1())
        server_key = b64url(
            vapid.public_key().public_bytes(
                serialization.Encoding.X962, serialization.PublicFormat.UncompressedPoint
            )
        )
        self.webpush = WebPushStandIn(self.ca, application_server_key=server_key).start()
        self.transports = {
            "ios": {
                "BACKEND": "backend_kit.push.transports.apns.APNsTransport",
                "OPTIONS": {
                    "KEY_FILE": str(key_file),
                    "KEY_ID": "KEYBENCH01",
                    "TEAM_ID": "TEAMBENCH1",
                    "TOPIC": "com.example.bench",
                    "HOST": "localhost",
                    "PORT": self.apns.port,
                    "CA_FILE": str(self.ca.ca_file),
                    "TIMEOUT": 60,
                },
            },
            "android": {
                "BACKEND": "backend_kit.push.transports.fcm.FCMTransport",
                "OPTIONS": {
                    "CREDENTIALS": {
                        "type": "service_account",
                        "project_id": "bk-bench",
                        "private_key_id": "bench",
                        "private_key": pem(fcm_key),
                        "client_email": email,
                        "client_id": "1",
                        "token_uri": self.fcm.token_uri,
                    },
                    "ENDPOINT": self.fcm.endpoint,
                    "TIMEOUT": 60,
                },
            },
            "web": {
                "BACKEND": "backend_kit.push.transports.webpush.WebPushTransport",
                "OPTIONS": {
                    "VAPID_PRIVATE_KEY": pem(vapid),
                    "VAPID_CLAIMS": {"sub": "mailto:bench@example.com"},
                    "CA_FILE": str(self.ca.ca_file),
                    "TIMEOUT": 60,
                },
            },
        }

    def token(self, kind: str) -> str:
        if kind == "ios":
            return secrets.token_hex(32)
        if kind == "android":
            return f"{secrets.token_urlsafe(16)}:APA91b{secrets.token_urlsafe(96)}"
        sub = self.webpush.subscribe().as_json()
        canonical = {
            "endpoint": sub["endpoint"],
            "keys": {"auth": sub["keys"]["auth"], "p256dh": sub["keys"]["p256dh"]},
        }
        return json.dumps(canonical, sort_keys=True, separators=(",", ":"))

    def delivered(self) -> dict[str, int]:
        return {
            "ios": len(self.apns.delivered),
            "android": len(self.fcm.delivered),
            "web": len(self.webpush.delivered),
        }

    def stop(self) -> None:
        for server in (self.apns, self.fcm, self.webpush):
            server.stop()


def fake_token(kind: str) -> str:
    return (
        secrets.token_hex(32)
        if kind != "android"
        else f"{secrets.token_urlsafe(16)}:APA91b{secrets.token_urlsafe(96)}"
    )


# --- seeding ----------------------------------------------------------------------------------


def seed(database_url: str, count: int, token: Any) -> None:
    """``count`` installations, written with COPY (the API would dominate the run)."""
    dsn = database_url.replace("postgres://", "postgresql://", 1)
    stamp = "2026-01-01 00:00:00+00"
    buffer = io.StringIO()
    for n in range(count):
        kind = KINDS[n % 3]
        data = {
            "installationId": f"bench-{n:07d}",
            "deviceType": kind,
            "deviceToken": token(kind),
            "channels": ["all", f"group{n % 10}"],
            "badge": n % 5,
            "timeZone": "Europe/Paris",
            "localeIdentifier": "en-GB",
            "appIdentifier": "com.example.bench" if kind != "web" else None,
        }
        data = {k: v for k, v in data.items() if v is not None}
        row = [
            "_Installation",
            object_id(),
            json.dumps(data),
            "\\N",
            '{"*": true}',
            '{"*": true}',
            stamp,
            stamp,
        ]
        buffer.write(
            "\t".join(v.replace("\\", "\\\\") if i == 2 else v for i, v in enumerate(row)) + "\n"
        )
    buffer.seek(0)
    with psycopg.connect(dsn) as conn, conn.cursor() as cur:
        with cur.copy(
            "COPY backend_kit_objects_parseobject (class_name, object_id, data, acl, "
            "read_principals, write_principals, created_at, updated_at) FROM STDIN"
        ) as copy:
            while chunk := buffer.read(1 << 20):
                copy.write(chunk)
        conn.commit()
        cur.execute("ANALYZE backend_kit_objects_parseobject")


# --- the worker and its memory ------------------------------------------------------------------


class MemoryWatch:
    """Samples the RSS of a worker's main process and of each pool process."""

    def __init__(self, pid: int) -> None:
        self.process = psutil.Process(pid)
        self.main_peak = 0
        self.child_peak = 0
        self.child_hwm = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            time.sleep(0.2)

    def sample(self) -> None:
        try:
            self.main_peak = max(self.main_peak, self.process.memory_info().rss)
            for child in self.process.children(recursive=True):
                self.child_peak = max(self.child_peak, child.memory_info().rss)
                self.child_hwm = max(self.child_hwm, _vm_hwm(child.pid))
        except psutil.Error:
            pass

    def __enter__(self) -> MemoryWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.sample()
        self._stop.set()
        self._thread.join()


def _vm_hwm(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


def start_worker(
    env: dict[str, str], queue: str, concurrency: int, log: Path
) -> subprocess.Popen[bytes]:
    handle = log.open("wb")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bench.push.celery_app",
            "worker",
            "-Q",
            queue,
            "--pool=prefork",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            "-l",
            "WARNING",
            "-n",
            f"{queue}@%h",
        ],
        cwd=ROOT,
        env={**os.environ, **env},
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while True:
        if process.poll() is not None or time.monotonic() > deadline:
            raise RuntimeError("the worker did not start:\n" + log.read_text(errors="replace"))
        try:
            if len(psutil.Process(process.pid).children()) >= concurrency:
                time.sleep(1.0)  # let it connect to the broker
                return process
        except psutil.Error:
            pass
        time.sleep(0.2)


def stop_worker(process: subprocess.Popen[bytes]) -> None:
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(30)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(process.pid, signal.SIGKILL)


def status_row(database_url: str, status_id: str) -> tuple[dict[str, Any], Any, Any]:
    dsn = database_url.replace("postgres://", "postgresql://", 1)
    with psycopg.connect(dsn) as conn:
        row = conn.execute(
            "SELECT data, created_at, updated_at FROM backend_kit_objects_parseobject "
            "WHERE class_name = '_PushStatus' AND object_id = %s",
            [status_id],
        ).fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def run_once(count: int, mode: str, batch_size: int, concurrency: int) -> dict[str, Any]:
    providers = Providers() if mode == "providers" else None
    transports = (
        providers.transports
        if providers
        else {k: {"BACKEND": "backend_kit.push.transports.local.LoggingTransport"} for k in KINDS}
    )
    queue = f"bk-push-bench-{os.getpid()}-{secrets.token_hex(3)}"
    push = {"TRANSPORTS": transports, "BATCH_SIZE": batch_size, "RETRY_BACKOFF": 1}
    try:
        with scratch_database() as url:
            started = time.monotonic()
            seed(url, count, providers.token if providers else fake_token)
            seeded = time.monotonic() - started
            env = driver_env(url, push, queue)
            log = Path(tempfile.mkstemp(prefix="bk_push_bench_", suffix=".log")[1])
            worker = start_worker(env, queue, concurrency, log)
            try:
                with MemoryWatch(worker.pid) as memory:
                    sent = subprocess.run(
                        [
                            sys.executable,
                            "manage.py",
                            "bk_sendpush",
                            "--where",
                            "{}",
                            "--alert",
                            "Benchmark",
                            "--badge",
                            "Increment",
                        ],
                        cwd=ROOT,
                        env={**os.environ, **env},
                        capture_output=True,
                        text=True,
                    )
                    if sent.returncode != 0:
                        raise RuntimeError(sent.stdout + sent.stderr)
                    status_id = sent.stdout.split("_PushStatus ")[1].split()[0]
                    deadline = time.monotonic() + 3600
                    while True:
                        data, created, updated = status_row(url, status_id)
                        if data.get("status") in ("succeeded", "failed"):
                            break
                        if time.monotonic() > deadline:
                            raise RuntimeError(f"the push did not finish: {data}")
                        time.sleep(0.2)
            finally:
                stop_worker(worker)
            seconds = (updated - created).total_seconds()
            result = {
                "installations": count,
                "transports": mode,
                "status": data.get("status"),
                "numSent": data.get("numSent"),
                "numFailed": data.get("numFailed", 0),
                "sentPerType": data.get("sentPerType"),
                "seconds": round(seconds, 2),
                "installations_per_second": round(count / seconds, 1) if seconds else None,
                "worker_main_peak_rss_mb": round(memory.main_peak / 2**20, 1),
                "worker_pool_peak_rss_mb": round(memory.child_peak / 2**20, 1),
                "worker_pool_vmhwm_mb": round(memory.child_hwm / 2**20, 1),
                "seed_seconds": round(seeded, 1),
            }
            if providers:
                result["delivered"] = providers.delivered()
            if data.get("status") != "succeeded" or data.get("numSent") != count:
                result["worker_log_tail"] = log.read_text(errors="replace")[-3000:]
            return result
    finally:
        if providers:
            providers.stop()


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--installations", default="100000", help="comma-separated audience sizes")
    parser.add_argument("--transports", choices=["providers", "logging", "both"], default="both")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=2, help="worker pool processes")
    args = parser.parse_args()
    modes = ["logging", "providers"] if args.transports == "both" else [args.transports]
    results = []
    for mode in modes:
        for count in (int(n) for n in args.installations.split(",")):
            result = run_once(count, mode, args.batch_size, args.concurrency)
            results.append(result)
            print(json.dumps(result), flush=True)
    print()
    print(
        f"{'transports':<10} {'installations':>13} {'seconds':>8} {'inst/s':>8} "
        f"{'main MB':>8} {'pool MB':>8} {'pool HWM':>9}  sent"
    )
    for r in results:
        print(
            f"{r['transports']:<10} {r['installations']:>13} {r['seconds']:>8} "
            f"{r['installations_per_second']:>8} {r['worker_main_peak_rss_mb']:>8} "
            f"{r['worker_pool_peak_rss_mb']:>8} {r['worker_pool_vmhwm_mb']:>9}  "
            f"{r['numSent']}/{r['installations']} {r['status']}"
        )


if __name__ == "__main__":
    main()
