"""File names and content types: validation, sanitizing, and the upload type rules.

A client's name is refused when it cannot be a file name at all (empty, too long, a
path separator, a control character: 122) and otherwise sanitized to a portable
ASCII name that is safe as a URL segment and an S3 key. The stored name is
``<32 hex>_<sanitized name>``, as Parse Server names files.
"""

from __future__ import annotations

import mimetypes
import re
import secrets
import unicodedata
from functools import lru_cache

from ..errors import Code, ParseError
from . import settings as files_settings

MAX_NAME_LENGTH = 128
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_ALLOWED = re.compile(r"[A-Za-z0-9@.~_-]")
# RFC 9110 token characters, for the type and subtype of a media type.
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~A-Za-z0-9]+$")
GENERIC_TYPE = "application/octet-stream"


def file_name_error(message: str) -> ParseError:
    return ParseError(Code.INVALID_FILE_NAME, message)


def save_error(message: str, *, status: int | None = None) -> ParseError:
    return ParseError(Code.FILE_SAVE_ERROR, message, status=status)


def check_name(raw: object) -> str:
    """Refuse what cannot be a file name (122); return it unchanged otherwise."""
    if not isinstance(raw, str) or not raw:
        raise file_name_error("Filename not provided.")
    if len(raw) > MAX_NAME_LENGTH:
        raise file_name_error("Filename too long.")
    if "/" in raw or "\\" in raw:
        raise file_name_error("Filename must not contain path separators.")
    if _CONTROL.search(raw):
        raise file_name_error("Filename must not contain control characters.")
    return raw


def _ascii(text: str) -> str:
    out = []
    for char in unicodedata.normalize("NFKD", text):
        if unicodedata.combining(char):
            continue  # the accent of a decomposed letter: keep the letter only
        out.append(char if _ALLOWED.fullmatch(char) else "_")
    return re.sub(r"_{2,}", "_", "".join(out))


def sanitize(raw: object) -> str:
    """A portable name: ASCII letters, digits and ``@.~_-``, no leading dot, one extension."""
    name = check_name(raw)
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    stem = re.sub(r"\.{2,}", ".", _ascii(stem)).strip("._-~@") or "file"
    ext = re.sub(r"[^A-Za-z0-9]", "", ext)[:16]
    return f"{stem}.{ext}" if ext else stem


def stored_name(clean: str) -> str:
    """A new, never reused name: ``<32 hex>_<clean>`` (Parse Server's shape)."""
    return f"{secrets.token_hex(16)}_{clean}"


def extension_of(name: str) -> str:
    return name.rpartition(".")[2] if "." in name else ""


def check_content_type(value: object) -> str | None:
    """The client's Content-Type, or None; 130 when it is not a media type."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise save_error("Invalid Content-Type.")
    value = value.strip()
    if not value:
        return None
    if _CONTROL.search(value) or len(value) > 255:
        raise save_error("Invalid Content-Type.")
    return value


def media_type(content_type: str) -> str:
    return content_type.split(";")[0].strip().lower()


def resolve_type(name: str, content_type: str | None) -> tuple[str, str]:
    """The final name and type: the extension decides the type; else the type adds one.

    As Parse Server: a name with a known extension is served as that extension's type
    whatever the client said; a name without one gets the extension of its type.
    """
    guessed = mimetypes.guess_type(name)[0] if extension_of(name) else None
    if guessed:
        return name, guessed
    if content_type:
        if not extension_of(name) and media_type(content_type) != GENERIC_TYPE:
            ext = mimetypes.guess_extension(media_type(content_type))
            if ext:
                name = name + ext
        return name, content_type
    return name, GENERIC_TYPE


@lru_cache(maxsize=64)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def _extension_allowed(token: str, patterns: list[str]) -> bool:
    return any(p == "*" or _compiled(p).search(token) for p in patterns)


def _refuse(token: str) -> ParseError:
    return save_error(f"File upload of extension {token} is disabled.")


def check_extension(name: str, content_type: str | None) -> None:
    """Parse 9's extension rule for non-master callers (130 when refused).

    The name's extension must match a pattern; when the extension is missing or
    unknown, the subtype of the Content-Type (what the file would be served as) must.
    """
    patterns = list(files_settings.get("EXTENSIONS") or [])
    if not patterns:
        return
    extension = re.sub(r"\s+", "", extension_of(name).split(";")[0])
    if extension and not _extension_allowed(extension, patterns):
        raise _refuse(extension)
    recognized = bool(extension) and mimetypes.guess_type(name)[0] is not None
    if recognized or not content_type or "*" in patterns:
        return
    kind, slash, rest = content_type.partition("/")
    kind = kind.strip()
    subtype = rest.split(";")[0].strip()
    if not slash or not _TOKEN.match(kind) or not _TOKEN.match(subtype):
        bare = re.sub(r"\s+", "", content_type.split(";")[0] if not slash else kind)
        if bare and not _extension_allowed(bare, patterns):
            raise _refuse(bare)
        raise save_error("Invalid Content-Type.")
    if not _extension_allowed(subtype, patterns):
        raise _refuse(subtype)


def check_allowed_type(content_type: str) -> None:
    """``ALLOWED_CONTENT_TYPES``: exact types or ``type/*`` patterns (130 when refused)."""
    allowed = files_settings.get("ALLOWED_CONTENT_TYPES")
    if allowed is None:
        return
    kind = media_type(content_type)
    for entry in allowed:
        entry = str(entry).strip().lower()
        if entry == kind or entry == "*/*":
            return
        if entry.endswith("/*") and kind.startswith(entry[:-1]):
            return
    raise save_error(f"File upload of content type {kind} is not allowed.")
