"""schemathesis hooks (loaded through ``SCHEMATHESIS_HOOKS=fuzz_hooks``).

``parse_error_envelope``: every 4xx answer of the Parse API is either a Parse error
``{"code": int, "error": str}`` or the key check's 403 ``{"error": str}``, never an
HTML page or a DRF ``{"detail": ...}`` body.
"""

from __future__ import annotations

import json
from typing import Any

import schemathesis


@schemathesis.check
def parse_error_envelope(ctx: Any, response: Any, case: Any) -> None:
    status = response.status_code
    if not 400 <= status < 500:
        return
    try:
        body = json.loads(response.content)
    except ValueError:
        raise AssertionError(f"{status} answer is not JSON: {response.content[:200]!r}")
    if not isinstance(body, dict) or not isinstance(body.get("error"), str):
        raise AssertionError(f"{status} answer has no string 'error': {body!r}")
    if status == 403 and set(body) == {"error"}:
        return
    code = body.get("code")
    if not isinstance(code, int) or isinstance(code, bool) or set(body) != {"code", "error"}:
        raise AssertionError(f"{status} answer is not {{code: int, error: str}}: {body!r}")
