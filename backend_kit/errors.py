"""Parse error codes and the ``{code, error}`` answer every Parse client understands."""

from __future__ import annotations

from typing import Any


class Code:
    """Parse's numeric error codes (the subset a server answers with)."""

    OTHER_CAUSE = -1
    INTERNAL_SERVER_ERROR = 1
    CONNECTION_FAILED = 100
    OBJECT_NOT_FOUND = 101
    INVALID_QUERY = 102
    INVALID_CLASS_NAME = 103
    MISSING_OBJECT_ID = 104
    INVALID_KEY_NAME = 105
    INVALID_POINTER = 106
    INVALID_JSON = 107
    COMMAND_UNAVAILABLE = 108
    NOT_INITIALIZED = 109
    INCORRECT_TYPE = 111
    INVALID_CHANNEL_NAME = 112
    PUSH_MISCONFIGURED = 115
    OBJECT_TOO_LARGE = 116
    OPERATION_FORBIDDEN = 119
    CACHE_MISS = 120
    INVALID_NESTED_KEY = 121
    INVALID_FILE_NAME = 122
    INVALID_ACL = 123
    TIMEOUT = 124
    INVALID_EMAIL_ADDRESS = 125
    MISSING_CONTENT_TYPE = 126
    MISSING_CONTENT_LENGTH = 127
    INVALID_CONTENT_LENGTH = 128
    FILE_TOO_LARGE = 129
    FILE_SAVE_ERROR = 130
    DUPLICATE_VALUE = 137
    INVALID_ROLE_NAME = 139
    EXCEEDED_QUOTA = 140
    SCRIPT_FAILED = 141
    VALIDATION_ERROR = 142
    INVALID_IMAGE_DATA = 143
    UNSAVED_FILE_ERROR = 151
    INVALID_PUSH_TIME_ERROR = 152
    FILE_DELETE_ERROR = 153
    FILE_DELETE_UNNAMED_ERROR = 161
    REQUEST_LIMIT_EXCEEDED = 155
    DUPLICATE_REQUEST = 159
    INVALID_EVENT_NAME = 160
    INVALID_VALUE = 162
    USERNAME_MISSING = 200
    PASSWORD_MISSING = 201
    USERNAME_TAKEN = 202
    EMAIL_TAKEN = 203
    EMAIL_MISSING = 204
    EMAIL_NOT_FOUND = 205
    SESSION_MISSING = 206
    MUST_CREATE_USER_THROUGH_SIGNUP = 207
    ACCOUNT_ALREADY_LINKED = 208
    INVALID_SESSION_TOKEN = 209
    MFA_ERROR = 210
    MFA_TOKEN_REQUIRED = 211
    LINKED_ID_MISSING = 250
    INVALID_LINKED_SESSION = 251
    UNSUPPORTED_SERVICE = 252
    INVALID_SCHEMA_OPERATION = 255
    AGGREGATE_ERROR = 600
    FILE_READ_ERROR = 601
    X_DOMAIN_REQUEST = 602


def http_status_for(code: int) -> int:
    """HTTP status Parse Server answers a given Parse error code with."""
    if code == Code.INTERNAL_SERVER_ERROR:
        return 500
    if code == Code.OBJECT_NOT_FOUND:
        return 404
    if code == Code.REQUEST_LIMIT_EXCEEDED:
        return 429
    return 400


class ParseError(Exception):
    """An error answered to the client as ``{"code": code, "error": message}``."""

    def __init__(
        self,
        code: int,
        message: str = "",
        *,
        status: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.code = int(code)
        self.message = message
        self.status = status if status is not None else http_status_for(self.code)
        self.headers = headers or {}

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "error": self.message}

    def __repr__(self) -> str:
        return f"ParseError({self.code}, {self.message!r})"


class Unauthorized(Exception):
    """Wrong application id or client key: 403 ``{"error": "unauthorized"}``, no code."""

    def __init__(self, message: str = "unauthorized") -> None:
        super().__init__(message)
        self.message = message


def sanitized(detail: str) -> str:
    """``Permission denied`` instead of ``detail`` unless SANITIZE_PERMISSION_ERRORS is off.

    Parse 9 sanitizes refusals so a client cannot probe classes, fields and rules;
    the detailed reason is logged instead.
    """
    import logging

    from .conf import bk_settings

    logging.getLogger("backend_kit.permissions").info("%s", detail)
    return "Permission denied" if bk_settings.SANITIZE_PERMISSION_ERRORS else detail


def permission_denied(detail: str, code: int = Code.OPERATION_FORBIDDEN) -> ParseError:
    """A refused operation (119 by default), its message sanitized (see :func:`sanitized`)."""
    return ParseError(code, sanitized(detail))


def master_key_required() -> Unauthorized:
    """403 on a master-only route (Parse 9: ``{"error": "Permission denied"}`` by default)."""
    return Unauthorized(sanitized("unauthorized: master key is required"))


def object_not_found(message: str = "Object not found.") -> ParseError:
    return ParseError(Code.OBJECT_NOT_FOUND, message)


def invalid_query(message: str) -> ParseError:
    return ParseError(Code.INVALID_QUERY, message)


def invalid_json(message: str = "invalid JSON") -> ParseError:
    return ParseError(Code.INVALID_JSON, message)
