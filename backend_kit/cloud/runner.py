"""Running cloud code: validators first, then the handler, errors in Parse's terms."""

from __future__ import annotations

import logging
from typing import Any

from ..errors import Code, ParseError
from .registry import CloudError, Entry  # noqa: F401  (CloudError re-exported)
from .request import CloudRequest
from .validators import run_validator, skip_with_master

log = logging.getLogger("backend_kit.cloud")


def script_error(exc: BaseException) -> ParseError:
    if isinstance(exc, ParseError):
        return exc
    message = str(exc.args[0]) if getattr(exc, "args", None) and exc.args[0] else str(exc)
    return ParseError(Code.SCRIPT_FAILED, message or "Script failed.")


def run(entry: Entry, request: CloudRequest) -> Any:
    """Validate then call; any failure becomes a ParseError (141 or 142, or its own)."""
    if not skip_with_master(entry.validator, request):
        run_validator(entry.validator, request)
    try:
        return entry.handler(request)
    except ParseError:
        raise
    except Exception as exc:
        log.info("cloud code %s failed: %s", entry.name, exc, exc_info=True)
        raise script_error(exc)


def run_after(entry: Entry, request: CloudRequest) -> None:
    """After-triggers cannot undo anything: a failure is logged, not returned."""
    try:
        entry.handler(request)
    except Exception:
        log.exception("cloud trigger %s failed", entry.name)
