"""Validators: declarative checks run before a function or trigger (Parse's built-ins).

A validator is a dict or a callable ``(request) -> None`` that raises. Dict keys:
``require_user``, ``require_master``, ``validate_master_key`` (also check master
calls), ``skip_with_master_key``, ``fields`` (a list of required names, or
``{name: {"required", "type", "default", "options", "error", "constant"}}``),
``require_any_user_roles``, ``require_all_user_roles``, ``require_user_keys`` and
``rate_limit`` (``{"request_count", "window", "message"}``). The camelCase names of
the JavaScript SDK are accepted too. Failures answer 142 with Parse's messages.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from typing import Any

from ..errors import Code, ParseError
from .request import CloudRequest

TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "number": (int, float),
    "boolean": (bool,),
    "array": (list,),
    "object": (dict,),
}
ALIASES = {
    "requireUser": "require_user",
    "requireMaster": "require_master",
    "validateMasterKey": "validate_master_key",
    "skipWithMasterKey": "skip_with_master_key",
    "requireAnyUserRoles": "require_any_user_roles",
    "requireAllUserRoles": "require_all_user_roles",
    "requireUserKeys": "require_user_keys",
    "rateLimit": "rate_limit",
}


class ValidationFailed(Exception):
    pass


def _normalise(options: dict[str, Any]) -> dict[str, Any]:
    return {ALIASES.get(k, k): v for k, v in options.items()}


def _type_name(expected: Any) -> str:
    if isinstance(expected, str):
        return expected.lower()
    if expected is str:
        return "string"
    if expected in (int, float):
        return "number"
    if expected is bool:
        return "boolean"
    if expected is list:
        return "array"
    if expected is dict:
        return "object"
    return getattr(expected, "__name__", str(expected)).lower()


def _is_type(value: Any, name: str) -> bool:
    if name == "number":
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    return isinstance(value, TYPES.get(name, (object,)))


def run_validator(validator: Any, request: CloudRequest) -> None:
    if validator is None:
        return
    try:
        if callable(validator) and not isinstance(validator, dict):
            validator(request)
            return
        _builtin(_normalise(validator), request)
    except ParseError:
        raise
    except ValidationFailed as exc:
        raise ParseError(Code.VALIDATION_ERROR, str(exc) or "Validation failed.")
    except Exception as exc:
        raise ParseError(Code.VALIDATION_ERROR, str(exc) or "Validation failed.")


def skip_with_master(validator: Any, request: CloudRequest) -> bool:
    return (
        isinstance(validator, dict)
        and bool(_normalise(validator).get("skip_with_master_key"))
        and request.master
    )


def _builtin(options: dict[str, Any], request: CloudRequest) -> None:
    if request.master and not options.get("validate_master_key"):
        return
    user = request.user
    if (
        user is None
        and request.object is not None
        and request.object.class_name == "_User"
        and not (request.object.existed())
    ):
        user = request.object
    if (
        options.get("require_user")
        or options.get("require_any_user_roles")
        or options.get("require_all_user_roles")
    ) and user is None:
        raise ValidationFailed("Validation failed. Please login to continue.")
    if options.get("require_master") and not request.master:
        raise ValidationFailed(
            "Validation failed. Master key is required to complete this request."
        )
    params = request.object.to_json() if request.object is not None else dict(request.params or {})
    _check_fields(options.get("fields"), params, request)
    roles = [f"role:{r}" for r in request.roles] if user is not None else []
    any_roles = _resolve(options.get("require_any_user_roles"))
    if any_roles and not any(f"role:{r}" in roles for r in any_roles):
        raise ValidationFailed("Validation failed. User does not match the required roles.")
    all_roles = _resolve(options.get("require_all_user_roles"))
    if all_roles and not all(f"role:{r}" in roles for r in all_roles):
        raise ValidationFailed("Validation failed. User does not match all the required roles.")
    user_keys = options.get("require_user_keys") or []
    if isinstance(user_keys, (list, tuple)):
        for key in user_keys:
            if user is None:
                raise ValidationFailed("Please login to make this request.")
            if user.get(key) is None:
                raise ValidationFailed(
                    f"Validation failed. Please set data for {key} on your account."
                )
    elif isinstance(user_keys, dict):
        for key, opt in user_keys.items():
            _check_options(opt, key, user.get(key) if user else None)
    if options.get("rate_limit"):
        _rate_limit(options["rate_limit"], request)


def _resolve(value: Any) -> list[str] | None:
    if callable(value):
        value = value()
    return list(value) if value else None


def _check_fields(fields: Any, params: dict[str, Any], request: CloudRequest) -> None:
    if not fields:
        return
    if isinstance(fields, (list, tuple)):
        for key in fields:
            if params.get(key) is None:
                raise ValidationFailed(f"Validation failed. Please specify data for {key}.")
        return
    for key, opt in fields.items():
        value = params.get(key)
        if isinstance(opt, str):
            if params.get(opt) is None:
                raise ValidationFailed(f"Validation failed. Please specify data for {opt}.")
            continue
        if not isinstance(opt, dict):
            continue
        if opt.get("default") is not None and value is None:
            value = opt["default"]
            params[key] = value
            if request.object is not None:
                request.object.set(key, value)
            else:
                request.params[key] = value
        if opt.get("constant") and request.object is not None:
            if request.original is not None:
                request.object.set(key, request.original.get(key))
            elif opt.get("default") is not None:
                request.object.set(key, opt["default"])
        if opt.get("required") and value is None:
            raise ValidationFailed(f"Validation failed. Please specify data for {key}.")
        if value is None and not opt.get("required"):
            continue
        if opt.get("type") is not None:
            name = _type_name(opt["type"])
            if not _is_type(value, name):
                raise ValidationFailed(
                    f"Validation failed. Invalid type for {key}. Expected: {name}"
                )
        if "options" in opt:
            _check_options(opt, key, value)


def _check_options(opt: dict[str, Any], key: str, value: Any) -> None:
    options = opt.get("options")
    error = opt.get("error")
    if callable(options):
        try:
            ok = options(value)
        except Exception as exc:
            raise ValidationFailed(
                error or str(exc) or f"Validation failed. Invalid value for {key}."
            )
        if not ok and ok is not None:
            raise ValidationFailed(error or f"Validation failed. Invalid value for {key}.")
        return
    choices = options if isinstance(options, (list, tuple)) else [options]
    if value not in choices:
        raise ValidationFailed(
            error
            or f"Validation failed. Invalid option for {key}. Expected: "
            + ", ".join(str(c) for c in choices)
        )


def _rate_limit(conf: dict[str, Any], request: CloudRequest) -> None:
    from ..cache import shared_cache

    count = int(conf.get("request_count", conf.get("requestCount", 0)))
    window = int(conf.get("window", conf.get("requestTimeWindow", 60000) / 1000))
    if count <= 0 or window <= 0:
        return
    who = request.ctx.user_id or request.ctx.ip or "anonymous"
    name = (
        request.function_name
        or f"{request.trigger_name}:{getattr(request.object, 'class_name', '')}"
    )
    bucket = int(time.time()) // window
    key = (
        "backend_kit:cloud_rate:"
        + hashlib.sha256(f"{name}|{who}|{bucket}".encode()).hexdigest()[:40]
    )
    cache = shared_cache()
    if not cache.add(key, 1, window + 1) and cache.incr(key) > count:
        raise ParseError(
            Code.REQUEST_LIMIT_EXCEEDED,
            conf.get("message", conf.get("errorResponseMessage", "Too many requests.")),
            status=429,
        )


Validator = dict[str, Any] | Callable[[CloudRequest], None] | None
