"""Where the machine's CPU went during a measured run, per request.

On a two-core machine the server, PostgreSQL, Redis and the load generator share the
cores, so requests/s at 32 connections is set by the CPU one request costs all of them
together. Around each measured run this reads the CPU time (user + system, all
threads) that each group of processes used, from ``/proc/<pid>/stat``, and divides it
by the requests completed: the server's processes (its leader and workers),
PostgreSQL's (every backend, the same cluster for both servers), ``redis-server``
(backend_kit's shared cache; idle for Parse Server) and the load generator (``wrk``,
from the run's child-process usage). A process that ends during the run (a pool
closing a connection) loses its share: the figures are lower bounds, within a percent
on the runs recorded.
"""

from __future__ import annotations

import os
import resource
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

TICK = os.sysconf("SC_CLK_TCK")
GROUPS = ("server", "postgres", "redis", "wrk")


def _ticks(pid: int) -> int | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # the command name (field 2) may hold spaces: split after its closing bracket
    fields = stat[stat.rindex(")") + 2 :].split()
    return int(fields[11]) + int(fields[12])  # utime + stime, fields 14 and 15


def _named(name: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name:
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def _children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


@dataclass
class Snapshot:
    ticks: dict[str, dict[int, int]] = field(default_factory=dict)
    children: float = 0.0


def snapshot(server_pids: Iterable[int]) -> Snapshot:
    groups = {
        "server": list(server_pids),
        "postgres": _named("postgres"),
        "redis": _named("redis-server"),
    }
    taken = Snapshot(children=_children_seconds())
    for group, pids in groups.items():
        taken.ticks[group] = {pid: t for pid in pids if (t := _ticks(pid)) is not None}
    return taken


def per_request(before: Snapshot, after: Snapshot, requests: int) -> dict[str, float]:
    """Microseconds of CPU per request for each group, and their total."""
    if requests <= 0:
        return {}
    figures: dict[str, float] = {}
    for group, now in after.ticks.items():
        then = before.ticks.get(group, {})
        spent = sum(t - then.get(pid, 0) for pid, t in now.items())
        figures[group] = spent / TICK / requests * 1e6
    figures["wrk"] = (after.children - before.children) / requests * 1e6
    figures["total"] = sum(figures[g] for g in GROUPS)
    return {k: round(v, 1) for k, v in figures.items()}
