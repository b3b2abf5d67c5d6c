"""How much memory a large upload costs the app: a 300 MB file through uvicorn.

    .venv/bin/python bench/files/upload_memory.py            # local disk and S3 (moto)
    .venv/bin/python bench/files/upload_memory.py --size-mb 300 --storage local

Starts one uvicorn process of ``bench.files.settings`` (one worker, so its PID is the
process that handles the request), uploads the file raw with a ``Content-Length``,
streamed from a generator, and samples the server's resident memory (``VmRSS`` from
``/proc``) every 10 ms. Reported: the RSS after a warm-up upload (baseline), the peak
while the big upload ran, and the growth. The stored file is then read back through
the returned URL and its SHA-256 compared. The target is a growth under 50 MB.

Django's ASGI handler spools request bodies to a temporary file (not memory) before
the view runs; the view then streams that file into the storage in PART_SIZE blocks
(an S3 multipart upload for S3), so the growth stays about one block or two.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[2]
MASTER = {"X-Parse-Application-Id": "test-app", "X-Parse-Master-Key": "test-master-key"}
MB = 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing on port {port}")


def rss_kib(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    raise RuntimeError("no VmRSS")


class Sampler(threading.Thread):
    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak = 0
        self.running = True

    def run(self) -> None:
        while self.running:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.01)


def payload(size: int, digest: hashlib._Hash, block: int = MB) -> Iterator[bytes]:
    chunk = bytes(range(256)) * (block // 256)
    sent = 0
    while sent < size:
        data = chunk[: min(block, size - sent)]
        digest.update(data)
        sent += len(data)
        yield data


def run(storage: str, size_mb: int, workdir: Path) -> dict[str, float]:
    env = {
        **os.environ,
        "BENCH_DIR": str(workdir),
        "DJANGO_SETTINGS_MODULE": "bench.files.settings",
    }
    env["PYTHONPATH"] = str(ROOT)
    moto = None
    if storage == "s3":
        moto_port = free_port()
        moto = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "moto_server"),
                "-H",
                "127.0.0.1",
                "-p",
                str(moto_port),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_for(moto_port)
        env["BENCH_S3_ENDPOINT"] = f"http://127.0.0.1:{moto_port}"
        env["BENCH_S3_BUCKET"] = "bench-files"
        import boto3

        boto3.client(
            "s3",
            endpoint_url=env["BENCH_S3_ENDPOINT"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        ).create_bucket(Bucket="bench-files")
    subprocess.run(
        [sys.executable, "-m", "django", "migrate", "-v", "0"], env=env, cwd=ROOT, check=True
    )
    port = free_port()
    env["BENCH_SERVER_URL"] = f"http://127.0.0.1:{port}/parse"
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "bench.files.asgi:application",
            "--port",
            str(port),
            "--log-level",
            "warning",
        ],
        env=env,
        cwd=ROOT,
        start_new_session=True,
    )
    try:
        wait_for(port)
        url = f"http://127.0.0.1:{port}/parse/files/big.bin"
        with httpx.Client(timeout=600) as client:
            # warm-up: imports, connections, first request paths
            for _ in range(3):
                client.post(url, content=b"w" * (6 * MB), headers=MASTER).raise_for_status()
            time.sleep(0.5)
            baseline = rss_kib(server.pid)
            sampler = Sampler(server.pid)
            sampler.start()
            digest = hashlib.sha256()
            size = size_mb * MB
            started = time.monotonic()
            response = client.post(
                url,
                content=payload(size, digest),
                headers={
                    **MASTER,
                    "Content-Length": str(size),
                    "Content-Type": "application/octet-stream",
                },
            )
            elapsed = time.monotonic() - started
            sampler.running = False
            sampler.join()
            response.raise_for_status()
            file_url = response.json()["url"]
            # read it back and compare
            check = hashlib.sha256()
            read_sampler = Sampler(server.pid)
            read_sampler.start()
            with client.stream("GET", file_url, follow_redirects=True) as got:
                got.raise_for_status()
                received = 0
                for block in got.iter_bytes(MB):
                    check.update(block)
                    received += len(block)
            read_sampler.running = False
            read_sampler.join()
        assert received == size, (received, size)
        assert check.hexdigest() == digest.hexdigest(), "bytes differ"
        return {
            "baseline_mb": baseline / 1024,
            "peak_mb": sampler.peak / 1024,
            "growth_mb": (sampler.peak - baseline) / 1024,
            "download_growth_mb": (read_sampler.peak - baseline) / 1024,
            "seconds": elapsed,
            "mb_per_s": size_mb / elapsed,
        }
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(30)
        if moto is not None:
            os.killpg(moto.pid, signal.SIGTERM)
            moto.wait(30)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-mb", type=int, default=300)
    parser.add_argument("--storage", choices=["local", "s3", "both"], default="both")
    args = parser.parse_args()
    storages = ["local", "s3"] if args.storage == "both" else [args.storage]
    failed = False
    print(f"{args.size_mb} MB raw upload through uvicorn (one worker), server RSS:")
    for storage in storages:
        workdir = Path(tempfile.mkdtemp(prefix="bk-bench-files-"))
        try:
            r = run(storage, args.size_mb, workdir)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
        ok = r["growth_mb"] < 50
        failed |= not ok
        print(
            f"  {storage:5}  baseline {r['baseline_mb']:6.1f} MB  peak {r['peak_mb']:6.1f} MB  "
            f"growth {r['growth_mb']:5.1f} MB ({'ok' if ok else 'OVER 50 MB'})  "
            f"upload {r['seconds']:5.1f} s ({r['mb_per_s']:.0f} MB/s)  "
            f"read-back growth {r['download_growth_mb']:5.1f} MB  sha256 ok"
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
