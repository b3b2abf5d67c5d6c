"""A py-spy profile of backend_kit's uvicorn workers while one operation runs under load.

py-spy samples the running processes from outside (no code change, no tracing
overhead in the server); ``--subprocesses`` follows every uvicorn worker. The raw
output (collapsed stacks, one line per distinct stack with its sample count) opens in
speedscope or flamegraph.pl; ``summarise`` turns it into self and total time per function.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path

FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+)(?::\d+)?\)$")
# With --subprocesses each stack starts with the process's command line, which may
# itself contain ";" (multiprocessing's "-c ...; spawn_main(...)").
PROCESS_LABEL = re.compile(r'^(?:process \d+:".*?";)+')


def py_spy() -> str | None:
    beside = Path(sys.executable).with_name("py-spy")
    return str(beside) if beside.exists() else shutil.which("py-spy")


def record(
    pid: int, seconds: float, output: Path, *, gil_only: bool = False, rate: int = 250
) -> subprocess.Popen[bytes]:
    """Start sampling ``pid`` and its children; wait on the returned process.

    By default every sample of a busy thread counts, waits on PostgreSQL and Redis
    included (where the wall-clock time of a request goes). ``gil_only`` keeps the
    samples of threads holding the GIL: the Python CPU time alone.
    """
    binary = py_spy()
    if binary is None:
        raise RuntimeError("py-spy is not installed (pip install py-spy)")
    argv = [binary, "record", "--pid", str(pid), "--subprocesses", "--nonblocking"]
    if gil_only:
        argv.append("--gil")
    argv += ["--rate", str(rate), "--duration", str(max(1, round(seconds)))]
    argv += ["--format", "raw", "--output", str(output)]
    return subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def _short(frame: str) -> str:
    match = FRAME.match(frame.strip())
    if not match:
        return frame.strip()
    path = match.group("file")
    for marker in ("site-packages/", "/lib/python3"):
        if marker in path:
            path = path.split(marker, 1)[1]
            break
    else:
        path = path.split("/work/main/", 1)[-1]
    return f"{match.group('func')} ({path})"


def summarise(raw: Path, top: int = 40) -> tuple[int, list[tuple[str, int]], list[tuple[str, int]]]:
    """Total samples, the functions with most self samples, and with most total samples."""
    own: Counter[str] = Counter()
    total: Counter[str] = Counter()
    samples = 0
    for line in raw.read_text(errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        stack = PROCESS_LABEL.sub("", stack)
        frames = [
            _short(f) for f in stack.split(";") if f and not f.startswith(("process ", "thread "))
        ]
        if not frames:
            continue
        samples += count
        own[frames[-1]] += count
        for name in set(frames):
            total[name] += count
    return samples, own.most_common(top), total.most_common(top)


def summary_lines(raw: Path, title: str) -> tuple[list[str], list[dict[str, object]]]:
    """A readable summary of one recording, and its top self-time functions as data."""
    samples, own, total = summarise(raw)
    lines = [title, f"{samples} samples (all uvicorn workers)", "", "self %  function (file)"]
    lines += [f"{100 * n / max(samples, 1):6.1f}  {name}" for name, n in own]
    lines += ["", "total %  function (file)"]
    lines += [f"{100 * n / max(samples, 1):6.1f}  {name}" for name, n in total]
    top = [
        {"function": name, "self_pct": round(100 * n / max(samples, 1), 1)} for name, n in own[:10]
    ]
    return lines, top
