"""Which route group, class and cloud function a Parse request is about.

Paths are below the mount (``classes/GameScore/abc``). Groups: ``auth`` (sign-up,
log-in and the account mails), ``writes``, ``reads``, ``files``, ``functions``
(cloud functions and jobs) and ``push``; ``batch`` requests are counted through
their sub-requests. Anything else has no group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

AUTH_ROUTES = frozenset(
    {
        "login",
        "logout",
        "loginAs",
        "verifyPassword",
        "requestPasswordReset",
        "verificationEmailRequest",
        "upgradeToRevocableSession",
    }
)
# Endpoints that serve a system class.
CLASS_ROUTES = {
    "users": "_User",
    "sessions": "_Session",
    "roles": "_Role",
    "installations": "_Installation",
}
READ_METHODS = ("GET", "HEAD")


@dataclass(frozen=True)
class Route:
    group: str | None
    class_name: str | None = None
    function: str | None = None
    batch: bool = False


def classify(method: str, path: str) -> Route:
    parts = [p for p in path.strip("/").split("/") if p]
    if not parts:
        return Route(None)
    head = parts[0]
    reading = method.upper() in READ_METHODS
    data_group = "reads" if reading else "writes"
    if head == "classes" and len(parts) > 1:
        return Route(data_group, class_name=parts[1])
    if head == "aggregate" and len(parts) > 1:
        return Route("reads", class_name=parts[1])
    if head == "users" and len(parts) == 1 and method.upper() == "POST":
        return Route("auth", class_name="_User")  # sign-up (or log-in with authData)
    if head in CLASS_ROUTES:
        return Route(data_group, class_name=CLASS_ROUTES[head])
    if head in AUTH_ROUTES:
        return Route("auth")
    if head in ("files", "fileUploads"):
        return Route("files")
    if head == "functions" and len(parts) > 1:
        return Route("functions", function=parts[1])
    if head == "jobs":
        return Route("functions", function=parts[1] if len(parts) > 1 else None)
    if head == "push":
        return Route("push")
    if head == "batch" and not reading:
        return Route(None, batch=True)
    if head in ("schemas", "config", "purge", "serverInfo", "cloud_code"):
        return Route(data_group)
    return Route(None)


def batch_routes(parent_path: str, body: Any) -> list[Route]:
    """The routes of a batch's sub-requests (those that cannot be routed are skipped:
    the batch view refuses the whole batch for them)."""
    from ..objects.batch import mount_prefix, routable_path

    requests = body.get("requests") if isinstance(body, dict) else None
    if not isinstance(requests, list):
        return []
    prefix = mount_prefix(parent_path)
    found = []
    for item in requests:
        if not isinstance(item, dict) or not isinstance(item.get("path"), str):
            continue
        method = str(item.get("method") or "GET").upper()
        try:
            path = routable_path(prefix, item["path"])
        except Exception:
            continue
        found.append(classify(method, path[len(prefix) :] if path.startswith(prefix) else path))
    return found
