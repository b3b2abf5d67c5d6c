"""Reading records incrementally: ``{"results": [...]}``, a top-level array, or JSON lines."""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

import ijson

from .base import ProgressBar, TransferError


class CountingReader:
    """Reports bytes read so the progress bar can follow a file by size."""

    def __init__(self, raw: IO[bytes], progress: ProgressBar) -> None:
        self.raw, self.progress = raw, progress

    def read(self, size: int = -1) -> bytes:
        data = self.raw.read(size)
        self.progress.update(len(data))
        return data


class _Replay:
    """A binary stream with its first bytes (already read to sniff the shape) put back."""

    def __init__(self, head: bytes, rest: Any) -> None:
        self.head, self.rest = head, rest

    def read(self, size: int = -1) -> bytes:
        if not self.head:
            return self.rest.read(size)
        if size < 0:
            data, self.head = self.head + self.rest.read(), b""
            return data
        data, self.head = self.head[:size], self.head[size:]
        return data


_RESULTS_HEAD = re.compile(rb'^\s*\{\s*"results"\s*:\s*(?P<open>.)?', re.DOTALL)
SNIFF_BYTES = 4096


def iter_records(stream: Any, source: str, path: Path | None = None) -> Iterator[Any]:
    """The records of ``{"results": [...]}``, of a top-level array, or of JSON lines.

    The shape is told from the first bytes; parsing then runs in ijson's C backend.
    Bad JSON raises :class:`TransferError` with its position (line, column) when the
    input is a file that can be read again to find it.
    """
    head = b""
    while len(head) < SNIFF_BYTES:  # a pipe may hand out less than asked
        piece = stream.read(SNIFF_BYTES - len(head))
        if not piece:
            break
        head += piece
    if head.startswith(codecs.BOM_UTF8):  # written by some Windows tools
        head = head[len(codecs.BOM_UTF8) :]
    start = head.lstrip()[:1]
    results = _RESULTS_HEAD.match(head)
    if not start:
        return
    if results:
        if results.group("open") not in (b"[", None):
            raise TransferError(f'{source}: "results" must be an array of objects')
        prefix, multiple = "results.item", False
    elif start == b"[":
        prefix, multiple = "item", False
    elif start == b"{":
        prefix, multiple = "", True  # JSON lines (mongoexport) or one object
    else:
        raise TransferError(f'{source}: expected {{"results": [...]}}, an array or objects')
    try:
        yield from ijson.items(
            _Replay(head, stream), prefix, multiple_values=multiple, use_float=True
        )
    except ijson.JSONError as exc:
        where = _locate_json_error(path) if path is not None else None
        raise TransferError(f"{source}: invalid JSON{where or ''}: {_first_line(exc)}") from None


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or ["unexpected end of input"])[0]


def _locate_json_error(path: Path) -> str | None:
    """Find where the JSON breaks by parsing again with ijson's pure-Python backend."""
    python_backend = ijson.get_backend("python")
    try:
        with open(path, "rb") as raw:
            for _ in python_backend.parse(raw, multiple_values=True):
                pass
    except ijson.JSONError as exc:
        match = re.search(r" at (\d+)$", str(exc))
        if match is None:
            return " at the end of the input"
        return " at " + _line_column(path, int(match.group(1)))
    return None


def _line_column(path: Path, offset: int) -> str:
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    line, line_start, seen = 1, 0, 0
    with open(path, "rb") as raw:
        while seen < offset:
            chunk = raw.read(1 << 16)
            if not chunk:
                break
            text = decoder.decode(chunk)[: offset - seen]
            if "\n" in text:
                line += text.count("\n")
                line_start = seen + text.rindex("\n") + 1
            seen += len(text)
    return f"line {line}, column {offset - line_start + 1}"
