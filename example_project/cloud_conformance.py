"""Cloud code of conformance mode (../shared/CONFORMANCE_FIXTURES.md), written with
backend_kit's public cloud API."""

from __future__ import annotations

from typing import Any

from backend_kit import cloud
from backend_kit.cloud import Object, ParseError, Query

from .mail import MAIL_CLASS


@cloud.define("hello")
def hello(request: cloud.CloudRequest) -> str:
    name = request.params.get("name")
    return f"Hello {name}" if name else "Hello world"


@cloud.define("echo")
def echo(request: cloud.CloudRequest) -> Any:
    return request.params


@cloud.define("whoami")
def whoami(request: cloud.CloudRequest) -> dict[str, Any]:
    return {"userId": request.ctx.user_id, "master": request.master}


@cloud.define("throwPlainError")
def throw_plain_error(request: cloud.CloudRequest) -> None:
    raise RuntimeError("plain failure")


@cloud.define("throwString")
def throw_string(request: cloud.CloudRequest) -> None:
    raise cloud.CloudError("string failure")


@cloud.define("throwParseError")
def throw_parse_error(request: cloud.CloudRequest) -> None:
    raise ParseError(
        int(request.params.get("code", 119)), request.params.get("message", "custom failure")
    )


@cloud.define("requireUser", validator={"require_user": True})
def require_user(request: cloud.CloudRequest) -> str:
    assert request.user is not None
    return f"ok {request.user.get('username')}"


@cloud.define("masterOnly", validator={"require_master": True})
def master_only(request: cloud.CloudRequest) -> str:
    return "master ok"


@cloud.define("mailbox", validator={"require_master": True})
def mailbox(request: cloud.CloudRequest) -> list[dict[str, Any]]:
    mails = (
        Query(MAIL_CLASS)
        .equal_to("to", request.params.get("email"))
        .ascending("createdAt")
        .limit(1000)
    )
    return [
        {"kind": m.get("kind"), "to": m.get("to"), "link": m.get("link"), "at": m.created_at}
        for m in mails.find(master=True)
    ]


def _non_negative(value: Any) -> bool:
    return isinstance(value, (int, float)) and value >= 0


@cloud.before_save(
    "CCValidated",
    validator={
        "fields": {"score": {"options": _non_negative, "error": "score must be non-negative"}},
        "validate_master_key": True,  # the rule holds for every caller
    },
)
def validated(request: cloud.CloudRequest) -> None:
    assert request.object is not None
    name = request.object.get("name")
    if name == "forbidden":
        raise ParseError(119, "name is forbidden")
    if name == "string-reject":
        raise cloud.CloudError("string rejection")


@cloud.before_save("CCModified")
def modified(request: cloud.CloudRequest) -> None:
    obj = request.object
    assert obj is not None
    if isinstance(obj.get("name"), str):
        obj.set("normalized", obj.get("name").lower())
    obj.increment("saves")


@cloud.after_save("CCAfterSave")
def after_save(request: cloud.CloudRequest) -> None:
    obj = request.object
    assert obj is not None
    Object(
        "CCAudit",
        {"sourceId": obj.id, "marker": obj.get("marker"), "isNew": request.original is None},
    ).save(master=True)


@cloud.before_delete("CCNoDelete")
def no_delete(request: cloud.CloudRequest) -> None:
    assert request.object is not None
    if request.object.get("locked") is True:
        raise cloud.CloudError("locked objects cannot be deleted")


@cloud.after_delete("CCNoDelete")
def after_delete(request: cloud.CloudRequest) -> None:
    obj = request.object
    assert obj is not None
    Object("CCAudit", {"sourceId": obj.id, "marker": obj.get("marker"), "deleted": True}).save(
        master=True
    )


@cloud.before_find("CCHidden")
def hide(request: cloud.CloudRequest) -> None:
    if not request.master:
        assert request.query is not None
        request.query.not_equal_to("hidden", True)


@cloud.after_find("CCAfterFind")
def decorate(request: cloud.CloudRequest) -> None:
    for obj in request.objects or []:
        obj.set("decorated", True)


# --- job --------------------------------------------------------------------------------


@cloud.job("conformanceJob")
def conformance_job(request: Any) -> str:
    request.message("job started")
    Object("CCJobRun", {"marker": request.params.get("marker")}).save(master=True)
    return "job done"
