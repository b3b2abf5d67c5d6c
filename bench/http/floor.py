"""The floor: PostgreSQL running exactly the SQL that one backend_kit request issues.

Capture: a copy of the seeded database gets ``log_statement = 'all'`` (that database
only), one uvicorn worker serves it, and each operation's request is sent three times
(the first warms caches). The statements PostgreSQL logs between two marker queries
are that request's SQL, transaction control and savepoints included.

Script: the two warm captures of the same request are compared literal by literal.
What the server generated (new objectIds, session token hashes) differs between them
and becomes a random string of the same length; digits that differ (timestamps) keep
the first value. The values the request chose (target objectId, category, username)
become pgbench random variables, so every transaction hits another row as the HTTP
benchmark does. pgbench then runs the script at the same concurrency for the same time.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from . import seed, servers

ENTRY = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")
STATEMENT = re.compile(r"LOG:  (?:statement|execute [^:]*): (.*)$")
# the values of an extended-protocol statement's $n, logged on the entry after it
PARAMETERS = re.compile(r"DETAIL:  parameters: (.*)$", re.S)
PARAMETER = re.compile(r"\$(\d+) = (NULL|'(?:[^']|'')*')")
PLACEHOLDER = re.compile(r"\$(\d+)(?!\d)")
# First line of a script whose statements the server sent apart from their values
# (prepared): pgbench runs it with -M prepared, as PostgreSQL saw them.
PREPARED_HEADER = "-- pgbench -M prepared"
LITERAL = re.compile(r"E?'(?:[^']|'')*'")
WORD = re.compile(r"[A-Za-z0-9_]+|.", re.S)
CONNECTION_SETUP = ("SELECT set_config('TimeZone'",)


def postgres_log_path() -> Path | None:
    """The server log PostgreSQL writes statements to, when this process can read it."""
    configured = os.environ.get("BENCH_PG_LOG")
    if configured:
        return Path(configured)
    with servers.admin_connection() as conn:
        current = conn.execute("SELECT pg_current_logfile()").fetchone()[0]
        data_dir = conn.execute("SHOW data_directory").fetchone()[0]
        port = str(conn.execute("SHOW port").fetchone()[0])
    if current:
        path = Path(current) if current.startswith("/") else Path(data_dir) / current
        return path if os.access(path, os.R_OK) else None
    if shutil.which("pg_lsclusters"):  # Debian: stderr goes to /var/log/postgresql/...
        out = subprocess.run(["pg_lsclusters", "-h"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            cols = line.split()
            if len(cols) >= 7 and cols[2] == port and os.access(cols[-1], os.R_OK):
                return Path(cols[-1])
    return None


# --- capture -------------------------------------------------------------------------------------
class StatementLog:
    """Statements of one database, read from the PostgreSQL log between two markers."""

    def __init__(self, log_path: Path, database: str) -> None:
        self.log_path = log_path
        self.database = database
        self.conn = psycopg.connect(servers.db_url(database), autocommit=True)
        self.serial = 0
        #: whether the server sent any statement with its values apart ($n, prepared)
        self.parameters_seen = False

    def close(self) -> None:
        self.conn.close()

    def _marker(self) -> str:
        self.serial += 1
        tag = f"bkbench_marker_{os.getpid()}_{self.serial}"
        self.conn.execute(f"SELECT '{tag}'")
        return tag

    def capture(self, action: Any) -> list[str]:
        start = self._marker()
        offset = max(0, self.log_path.stat().st_size - 65536)
        action()
        end = self._marker()
        deadline = time.monotonic() + 10
        while True:
            with self.log_path.open("rb") as log:
                log.seek(offset)
                text = log.read().decode("utf-8", "replace")
            if end in text or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        return self._between(text, start, end)

    def _between(self, text: str, start: str, end: str) -> list[str]:
        entries: list[list[str]] = []
        ours = False
        for line in text.splitlines():
            if ENTRY.match(line):
                ours = f"@{self.database} " in line
                if ours:
                    entries.append([line])
            elif ours and entries:
                entries[-1].append(line)  # a statement spanning several lines
        statements: list[str] = []
        inside = False
        for entry in entries:
            values = PARAMETERS.search("\n".join(entry))
            if values and inside and statements:
                # the statement just logged, with its values written back in
                statements[-1] = with_parameters(statements[-1], values.group(1))
                self.parameters_seen = True
                continue
            match = STATEMENT.search(entry[0])
            if not match:
                continue
            sql = "\n".join([match.group(1), *entry[1:]]).strip()
            if start in sql:
                inside = True
            elif end in sql:
                break
            elif inside and not sql.startswith(CONNECTION_SETUP):
                statements.append(sql)
        return statements


def with_parameters(sql: str, logged: str) -> str:
    """``sql`` with each ``$n`` replaced by the literal PostgreSQL logged for it."""
    values = {int(n): literal for n, literal in PARAMETER.findall(logged)}
    return PLACEHOLDER.sub(lambda m: values.get(int(m.group(1)), m.group(0)), sql)


# --- turning captures into pgbench scripts -------------------------------------------------------
@dataclass(frozen=True)
class Variable:
    """A value the request chose, replaced by a pgbench random variable."""

    literal: str  # as it appears in the captured SQL
    expression: str  # SQL producing a value of the same shape
    setup: str  # pgbench meta-command defining the variable
    bare: bool = False  # a number outside quotes (``= 115``) rather than inside a literal


def request_variables(
    values: dict[str, str],
    objects: int,
    users: int,
    user_keys: list[tuple[str, int]] | None = None,
) -> list[Variable]:
    """Variables for the values a request chose.

    ``user_keys`` (objectId, ``auth_user`` id) of user 1, 2...: a login touches rows keyed
    by those too, and they must follow the random username, or every pgbench client
    would update the same ``auth_user`` row.
    """
    user_setup = f"\\set u random(1, {users})"
    known = {
        "object_id": ("('o' || lpad(:n::text, 9, '0'))", f"\\set n random(1, {objects})"),
        "category": (
            "('c' || lpad(:cat::text, 3, '0'))",
            f"\\set cat random(0, {seed.CATEGORIES - 1})",
        ),
        "username": ("('user' || lpad(:u::text, 5, '0'))", user_setup),
    }
    variables = [Variable(values[k], *known[k]) for k in known if k in values]
    if "username" in values and user_keys and len(user_keys) >= users:
        chosen = user_keys[int(values["username"].removeprefix("user")) - 1]
        ids = ",".join(f"'{object_id}'" for object_id, _ in user_keys[:users])
        pks = ",".join(str(pk) for _, pk in user_keys[:users])
        variables.append(Variable(chosen[0], f"((ARRAY[{ids}])[:u])", user_setup))
        variables.append(Variable(str(chosen[1]), f"((ARRAY[{pks}])[:u])", user_setup, bare=True))
    return variables


def _random_text(length: int) -> str:
    parts = " || ".join(["md5(random()::text)"] * ((length + 31) // 32))
    return f"substr({parts}, 1, {length})"


def _literal_parts(
    first: str, second: str | None, variables: list[Variable]
) -> list[tuple[str, bool]]:
    """``first``'s text split into (text, is_expression) pieces."""
    pieces: list[tuple[str, bool]] = []
    a = WORD.findall(first)
    b = WORD.findall(second) if second is not None else a
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    for tag, i1, i2, _j1, _j2 in matcher.get_opcodes():
        for word in a[i1:i2]:
            if tag == "equal" or word.isdigit() or not (word[0].isalnum() or word[0] == "_"):
                pieces.append((word, False))  # the same, or digits of a timestamp
            else:  # generated by the server (objectId, token hash): fresh each time
                pieces.append((_random_text(len(word)), True))
    merged: list[tuple[str, bool]] = []
    for text, is_expr in pieces:
        if merged and not is_expr and not merged[-1][1]:
            merged[-1] = (merged[-1][0] + text, False)
        else:
            merged.append((text, is_expr))
    pieces = merged
    # then the request's own values
    for var in variables:
        value = var.literal
        split: list[tuple[str, bool]] = []
        for text, is_expr in pieces:
            if is_expr or value not in text:
                split.append((text, is_expr))
                continue
            bits = text.split(value)
            for k, bit in enumerate(bits):
                if k:
                    split.append((var.expression, True))
                split.append((bit, False))
        pieces = split
    return [(t, e) for t, e in pieces if e or t]


def _rebuild_literal(token: str, other: str | None, variables: list[Variable]) -> str:
    prefix = "E" if token.startswith("E") else ""
    body = token[len(prefix) + 1 : -1]
    other_body = other[len(prefix) + 1 : -1] if other is not None else None
    pieces = _literal_parts(body, other_body, variables)
    if all(not e for _, e in pieces):
        return token
    sql = [p if e else f"{prefix}'{p}'" for p, e in pieces]
    return "(" + " || ".join(sql) + ")"


def template_statement(first: str, second: str, variables: list[Variable]) -> str:
    """One captured statement with its volatile literals turned into expressions."""
    a_literals = LITERAL.findall(first)
    b_literals = LITERAL.findall(second)
    same_shape = LITERAL.sub("''", first) == LITERAL.sub("''", second) and len(a_literals) == len(
        b_literals
    )
    out: list[str] = []
    last = 0
    for k, match in enumerate(LITERAL.finditer(first)):
        out.append(first[last : match.start()])
        other = b_literals[k] if same_shape else None
        rebuilt = _rebuild_literal(match.group(0), other, variables)
        token = match.group(0)
        if (
            rebuilt != token
            and not first.startswith("::", match.end())
            and token.startswith("'{")
            and not token.startswith("'{\"")
        ):
            # an untyped '{a,b}' was an array to PostgreSQL; a concatenation is text
            rebuilt += "::text[]"
        out.append(rebuilt)
        last = match.end()
    out.append(first[last:])
    sql = "".join(out)
    for var in (v for v in variables if v.bare):
        # only outside literals, and only as a compared value ("id" = 115)
        parts = LITERAL.split(sql)
        quoted = LITERAL.findall(sql)
        pattern = re.compile(rf"(=\s*){re.escape(var.literal)}(?![\w.])")
        parts = [pattern.sub(lambda m, e=var.expression: m.group(1) + e, part) for part in parts]
        sql = "".join(p + (quoted[i] if i < len(quoted) else "") for i, p in enumerate(parts))
    return sql


def _structure(statements: list[str]) -> list[str]:
    # savepoint names carry a thread id: not part of the shape
    return [re.sub(r'"s\d+_x\d+"', '"sp"', LITERAL.sub("''", s)) for s in statements]


def build_script(
    captures: list[list[str]], variables: list[Variable], prepared: bool = False
) -> tuple[str, list[str]] | None:
    """A pgbench script from two same-shaped warm captures (None if they never agree).

    ``prepared``: the server prepared its statements, so the script starts with
    ``PREPARED_HEADER`` and its literals hide their ``:word`` runs from pgbench (which
    would take them for variables in that mode).
    """
    for first, second in zip(captures, captures[1:], strict=False):
        if first and _structure(first) == _structure(second):
            break
    else:
        return None
    statements = [template_statement(a, b, variables) for a, b in zip(first, second, strict=True)]
    used = list(
        dict.fromkeys(v.setup for v in variables if any(v.expression in s for s in statements))
    )
    if prepared:
        statements = [hide_colons(s) for s in statements]
    body = "\n".join(s.rstrip(";") + ";" for s in statements)
    header = [PREPARED_HEADER] if prepared else []
    return "\n".join([*header, *used, body]) + "\n", first


COLON_WORD = re.compile(r":(?=[A-Za-z_])")


def hide_colons(sql: str) -> str:
    """Each literal holding ``:word`` rebuilt around ``chr(58)`` (``'a:b'`` -> ``('a' || chr(58) || 'b')``)."""

    def rebuild(match: re.Match[str]) -> str:
        token = match.group(0)
        if not COLON_WORD.search(token):
            return token
        prefix = "E" if token.startswith("E") else ""
        pieces = COLON_WORD.split(token[len(prefix) + 1 : -1])
        return "(" + " || chr(58) || ".join(f"{prefix}'{p}'" for p in pieces) + ")"

    return LITERAL.sub(rebuild, sql)


def script_mode(script: Path) -> str:
    """pgbench's ``-M`` for a script written by :func:`build_script`."""
    with script.open() as text:
        return "prepared" if text.readline().strip() == PREPARED_HEADER else "simple"


# --- running pgbench -----------------------------------------------------------------------------
@dataclass
class FloorResult:
    transactions: int
    seconds: float
    failed: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.transactions / self.seconds if self.seconds else 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "transactions": self.transactions,
            "seconds": self.seconds,
            "rps": round(self.rps, 1),
            "p50_ms": round(self.p50_ms, 3),
            "p99_ms": round(self.p99_ms, 3),
            "failed": self.failed,
        }


def percentile(sorted_values: list[float], pct: float) -> float:
    if not sorted_values:
        return float("nan")
    k = min(len(sorted_values) - 1, max(0, round(pct / 100 * len(sorted_values) + 0.5) - 1))
    return sorted_values[k]


def pgbench(
    database: str, script: Path, clients: int, seconds: float, workdir: Path
) -> FloorResult:
    """Run ``script`` with ``clients`` connections for ``seconds``; per-transaction latencies."""
    for old in workdir.glob("pgbench_log.*"):
        old.unlink()
    argv = ["pgbench", "-n", "-M", script_mode(script), "-f", str(script), "-c", str(clients)]
    argv += ["-j", str(min(2, clients))]
    argv += ["-T", str(max(1, round(seconds))), "-l", "--log-prefix", "pgbench_log"]
    argv += ["-d", servers.db_url(database)]
    done = subprocess.run(argv, cwd=workdir, capture_output=True, text=True, timeout=seconds + 120)
    if done.returncode not in (0, 2):  # 2: some clients aborted (reported as failures)
        raise RuntimeError(f"pgbench failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    latencies: list[float] = []
    failed = 0
    for log in workdir.glob("pgbench_log.*"):
        for line in log.read_text().splitlines():
            cols = line.split()
            if len(cols) < 3:
                continue
            if cols[2] in ("failed", "serialization", "deadlock"):
                failed += 1
            elif cols[2].isdigit():
                latencies.append(int(cols[2]) / 1000)
    match = re.search(r"duration: (\d+) s", done.stdout)
    duration = float(match.group(1)) if match else seconds
    aborted = re.search(r"number of failed transactions: (\d+)", done.stdout)
    if aborted:
        failed = max(failed, int(aborted.group(1)))
    if done.returncode == 2:
        failed = max(failed, 1)
    latencies.sort()
    return FloorResult(
        transactions=len(latencies),
        seconds=duration,
        failed=failed,
        p50_ms=percentile(latencies, 50),
        p99_ms=percentile(latencies, 99),
    )


def check_script(database: str, script: Path, workdir: Path) -> str | None:
    """Run a script once; the error text when PostgreSQL refuses it."""
    argv = [
        "pgbench",
        "-n",
        "-M",
        script_mode(script),
        "-f",
        str(script),
        "-c",
        "1",
        "-t",
        "3",
        "-d",
        servers.db_url(database),
    ]
    done = subprocess.run(argv, cwd=workdir, capture_output=True, text=True, timeout=120)
    if done.returncode != 0 or "aborted" in done.stderr:
        return (done.stderr or done.stdout)[-1500:]
    return None
