#!/usr/bin/env python3
"""LiveQuery fan-out benchmark: backend_kit (uvicorn, 1 worker) against Parse Server.

For each N in ``--subscribers``: N WebSocket clients connect and subscribe to the same
query; then ``--events`` objects matching it are saved one after the other through
REST, and for every (subscriber, event) the time from just before the save request
to the frame's arrival is recorded. Prints p50/p99/max per server and the ratio.

Everything runs on loopback: a scratch PostgreSQL database per server, a private
``redis-server`` for backend_kit's channel layer (the production shape), and Parse
Server 9.10 from ``--parse-dir`` with its own LiveQuery server on the same port.

    .venv/bin/python bench/realtime/bench.py --subscribers 1000,5000,10000

The client is a minimal asyncio WebSocket client (one Protocol per socket, spread
over several loopback source addresses so that 20k sockets never run out of ports).
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import platform
import resource
import secrets
import signal
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import orjson
import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from tests.realtime.harness import (  # noqa: E402
    APP_ID,
    JS_KEY,
    MASTER_KEY,
    AsgiServer,
    RedisServer,
    free_port,
    scratch_database,
    server_env,
)

CLASS = "BenchItem"
CONNECT_BATCH = 250  # handshakes in flight at once
WAIT_EVENT = 60.0  # give up on an event after this long (reported as missing)


# --- a tiny WebSocket client ------------------------------------------------------------------
class Socket(asyncio.Protocol):
    def __init__(self, port: int, on_event: Any) -> None:
        self.port = port
        self.on_event = on_event
        self.transport: asyncio.Transport | None = None
        self.buffer = b""
        self.handshaken = asyncio.get_running_loop().create_future()
        self.replies: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.key = base64.b64encode(os.urandom(16)).decode()

    def connection_made(self, transport: Any) -> None:
        self.transport = transport
        transport.write(
            (
                f"GET /parse HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\nUpgrade: websocket\r\n"
                f"Connection: Upgrade\r\nSec-WebSocket-Key: {self.key}\r\n"
                "Sec-WebSocket-Version: 13\r\n\r\n"
            ).encode()
        )

    def data_received(self, data: bytes) -> None:
        now = time.perf_counter()
        self.buffer += data
        if not self.handshaken.done():
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head, self.buffer = self.buffer[:end], self.buffer[end + 4 :]
            if not head.startswith(b"HTTP/1.1 101"):
                self.handshaken.set_exception(ConnectionError(head[:80]))
                return
            self.handshaken.set_result(True)
        while len(self.buffer) >= 2:
            opcode, length, pos = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F, 2
            if length == 126:
                if len(self.buffer) < 4:
                    return
                (length,) = struct.unpack("!H", self.buffer[2:4])
                pos = 4
            elif length == 127:
                if len(self.buffer) < 10:
                    return
                (length,) = struct.unpack("!Q", self.buffer[2:10])
                pos = 10
            if len(self.buffer) < pos + length:
                return
            payload, self.buffer = self.buffer[pos : pos + length], self.buffer[pos + length :]
            if opcode == 0x9:
                self._write(0xA, payload)
            elif opcode == 0x1:
                frame = orjson.loads(payload)
                if frame.get("op") == "create":
                    self.on_event(frame, now)
                else:
                    self.replies.put_nowait(frame)

    def _write(self, opcode: int, payload: bytes) -> None:
        assert self.transport is not None
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            header = struct.pack("!BB", 0x80 | opcode, 0x80 | n)
        elif n < 65536:
            header = struct.pack("!BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            header = struct.pack("!BBQ", 0x80 | opcode, 0x80 | 127, n)
        masked = bytes(b ^ mask[i & 3] for i, b in enumerate(payload))
        self.transport.write(header + mask + masked)

    def send_json(self, frame: Any) -> None:
        self._write(0x1, orjson.dumps(frame))

    def close(self) -> None:
        if self.transport is not None:
            self.transport.abort()


@dataclass
class Run:
    samples: dict[int, list[float]] = field(default_factory=dict)  # seq -> latencies
    sent_at: dict[int, float] = field(default_factory=dict)
    done: dict[int, asyncio.Event] = field(default_factory=dict)
    expected: int = 0

    def on_event(self, frame: dict[str, Any], now: float) -> None:
        seq = (frame.get("object") or {}).get("seq")
        if seq not in self.sent_at:
            return
        got = self.samples.setdefault(seq, [])
        got.append(now - self.sent_at[seq])
        if len(got) >= self.expected:
            self.done[seq].set()


async def open_subscribers(
    port: int, count: int, connect: dict[str, Any], run: Run
) -> list[Socket]:
    loop = asyncio.get_running_loop()
    sockets: list[Socket] = []

    async def one(i: int) -> Socket:
        source = f"127.0.{1 + (i // 5000)}.{2 + i % 200}"
        _, sock = await loop.create_connection(
            lambda: Socket(port, run.on_event), "127.0.0.1", port, local_addr=(source, 0)
        )
        await asyncio.wait_for(sock.handshaken, 60)
        sock.send_json(connect)
        reply = await asyncio.wait_for(sock.replies.get(), 60)
        assert reply.get("op") == "connected", reply
        sock.send_json(
            {
                "op": "subscribe",
                "requestId": 1,
                "query": {"className": CLASS, "where": {"bench": True}},
            }
        )
        reply = await asyncio.wait_for(sock.replies.get(), 60)
        assert reply.get("op") == "subscribed", reply
        return sock

    for start in range(0, count, CONNECT_BATCH):
        batch = range(start, min(start + CONNECT_BATCH, count))
        sockets.extend(await asyncio.gather(*(one(i) for i in batch)))
    return sockets


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def measure(
    port: int,
    headers: dict[str, str],
    connect: dict[str, Any],
    count: int,
    events: int,
    server_pid: int,
) -> dict[str, Any]:
    run = Run(expected=count)
    started = time.perf_counter()
    sockets = await open_subscribers(port, count, connect, run)
    setup = time.perf_counter() - started
    print(f"  {count} subscribed in {setup:.1f} s; measuring", flush=True)
    url = f"http://127.0.0.1:{port}/parse/classes/{CLASS}"
    missing = 0
    async with httpx.AsyncClient(timeout=60) as http:
        for seq in range(-2, events):  # two warm-up events, not counted
            if seq == 0:
                cpu_before = cpu_seconds(server_pid)
            run.sent_at[seq] = time.perf_counter()
            run.done[seq] = asyncio.Event()
            response = await http.post(url, json={"bench": True, "seq": seq}, headers=headers)
            response.raise_for_status()
            try:
                await asyncio.wait_for(run.done[seq].wait(), WAIT_EVENT)
            except TimeoutError:
                missing += count - len(run.samples.get(seq, []))
            await asyncio.sleep(0.3)
        cpu = cpu_seconds(server_pid) - cpu_before
    for sock in sockets:
        sock.close()
    latencies = sorted(x for seq, xs in run.samples.items() if seq >= 0 for x in xs)
    last = [max(xs) for seq, xs in run.samples.items() if seq >= 0 and xs]
    return {
        "subscribers": count,
        "events": events,
        "setup_s": setup,
        "p50_ms": 1000 * percentile(latencies, 50),
        "p99_ms": 1000 * percentile(latencies, 99),
        "max_ms": 1000 * max(latencies) if latencies else float("nan"),
        "last_p50_ms": 1000 * statistics.median(last) if last else float("nan"),
        "missing": missing,
        # server CPU per event, idle time between events included (small)
        "cpu_ms_per_event": 1000 * cpu / events,
    }


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    k = min(len(values) - 1, max(0, round(pct / 100 * len(values) + 0.5) - 1))
    return values[k]


# --- servers ----------------------------------------------------------------------------------
@contextmanager
def backend_kit_server(
    extra_args: list[str], in_memory: bool
) -> Iterator[tuple[int, dict[str, str], dict, int]]:
    redis = RedisServer()
    redis.start()
    try:
        with scratch_database() as db:
            port = free_port()
            env = server_env(
                db, redis_url=None if in_memory else redis.url, port=port, prefix="bk_lq_bench"
            )
            env["BK_LQ_CLASSES"] = CLASS
            server = AsgiServer(env, port, "--log-level", "warning", *extra_args)
            server.start()
            assert server.process is not None
            print(f"  uvicorn pid {server.process.pid} on port {port}", flush=True)
            try:
                headers = {
                    "X-Parse-Application-Id": APP_ID,
                    "X-Parse-Master-Key": MASTER_KEY,
                }
                httpx.post(
                    f"{server.origin}/parse/schemas/{CLASS}",
                    json={"className": CLASS},
                    headers=headers,
                ).raise_for_status()
                connect = {"op": "connect", "applicationId": APP_ID, "javascriptKey": JS_KEY}
                yield port, headers, connect, server.process.pid
            finally:
                print(f"  (uvicorn log: {server.log_path})")
                server.stop()
    finally:
        redis.stop()


@contextmanager
def parse_server(parse_dir: Path) -> Iterator[tuple[int, dict[str, str], dict, int]]:
    name = f"bk_lq_bench_parse_{secrets.token_hex(4)}"
    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    port = free_port()
    work = Path(tempfile.mkdtemp(prefix="bk_lq_bench_parse_"))
    config = {
        "appId": "bench",
        "masterKey": "bench-master",
        "databaseURI": f"postgres://postgres@127.0.0.1:5432/{name}",
        "port": port,
        "host": "127.0.0.1",
        "mountPath": "/parse",
        "serverURL": f"http://127.0.0.1:{port}/parse",
        "startLiveQueryServer": True,
        "liveQuery": {"classNames": [CLASS]},
        "allowClientClassCreation": True,
        "logLevel": "error",
    }
    (work / "config.json").write_text(json.dumps(config))
    log = (work / "parse-server.log").open("wb")
    process = subprocess.Popen(
        ["node", str(parse_dir / "node_modules/parse-server/bin/parse-server"), "config.json"],
        cwd=work,
        env={**os.environ, "NODE_PATH": str(parse_dir / "node_modules")},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 90
        while True:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/parse/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"parse-server did not start; see {work}/parse-server.log")
            time.sleep(0.25)
        headers = {"X-Parse-Application-Id": "bench", "X-Parse-Master-Key": "bench-master"}
        yield port, headers, {"op": "connect", "applicationId": "bench"}, process.pid
    finally:
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:  # it waits for its sockets to close
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=15)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run_against(kind: str, args: argparse.Namespace, sizes: list[int]) -> list[dict[str, Any]]:
    results = []
    starter = (
        backend_kit_server(args.uvicorn_arg or [], args.in_memory_layer)
        if kind == "backend_kit"
        else parse_server(Path(args.parse_dir))
    )
    with starter as (port, headers, connect, pid):
        for n in sizes:
            print(f"{kind}: {n} subscribers ...", flush=True)
            result = asyncio.run(measure(port, headers, connect, n, args.events, pid))
            result["server"] = kind
            print(f"  {fmt(result)}", flush=True)
            results.append(result)
            time.sleep(2)  # let the server drop the previous round's sockets
    return results


def fmt(r: dict[str, Any]) -> str:
    return (
        f"p50 {r['p50_ms']:7.1f} ms  p99 {r['p99_ms']:7.1f} ms  max {r['max_ms']:7.1f} ms"
        f"  server CPU/event {r['cpu_ms_per_event']:6.0f} ms  missing {r['missing']}"
        f"  (connect+subscribe {r['setup_s']:.1f} s)"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--subscribers", default="1000,5000,10000")
    parser.add_argument("--events", type=int, default=20)
    parser.add_argument("--only", choices=["backend_kit", "parse"])
    parser.add_argument("--parse-dir", default="/tmp/parse-anchor")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument(
        "--in-memory-layer",
        action="store_true",
        help="backend_kit with Channels' InMemoryChannelLayer instead of channels_redis",
    )
    parser.add_argument(
        "--uvicorn-arg", action="append", help="extra uvicorn argument (repeatable)"
    )
    args = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # servers inherit it too
    sizes = [int(n) for n in args.subscribers.split(",")]
    if max(sizes) + 100 > hard:
        print(f"the open-file limit ({hard}) is too low for {max(sizes)} sockets", file=sys.stderr)
        return 1
    try:
        import uvloop

        uvloop.install()
    except ImportError:
        pass
    results: list[dict[str, Any]] = []
    kinds = [args.only] if args.only else ["backend_kit", "parse"]
    for kind in kinds:
        results += run_against(kind, args, sizes)
    print()
    print(
        f"machine: {platform.node()} {platform.machine()}, {os.cpu_count()} cores; {time.strftime('%Y-%m-%d %H:%M')}"
    )
    print(
        f"{'N':>6} | {'backend_kit p50/p99 ms':>24} | {'Parse Server p50/p99 ms':>24} | p99 ratio"
    )
    for n in sizes:
        ours = next(
            (r for r in results if r["server"] == "backend_kit" and r["subscribers"] == n), None
        )
        theirs = next(
            (r for r in results if r["server"] == "parse" and r["subscribers"] == n), None
        )
        cell = lambda r: f"{r['p50_ms']:9.1f} / {r['p99_ms']:9.1f}" if r else f"{'-':>21}"  # noqa: E731
        ratio = f"{theirs['p99_ms'] / ours['p99_ms']:.2f}x" if ours and theirs else "-"
        print(f"{n:>6} | {cell(ours):>24} | {cell(theirs):>24} | {ratio}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
