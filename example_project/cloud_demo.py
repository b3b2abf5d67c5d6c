"""Cloud code of the demo task board (``example_project/web``), loaded in the default mode.

The board keeps its tasks in one class, ``Task``. Parse 9's defaults do not let clients
create classes, so the class (with its permissions) is created after every ``migrate``,
which ``python3 dev.py demo`` runs before serving.

Who may do what:

* class-level permissions: only signed-in users may read or write tasks at all;
* each task's ACL, stamped here on creation: every (signed-in) user reads it, only its
  author writes it;
* ``boardStats`` answers members of the ``Admins`` role only. To make ``alice`` an admin
  of the demo, with the master key::

      curl -s -X POST http://127.0.0.1:8000/parse/roles \\
        -H 'X-Parse-Application-Id: demo-app' -H 'X-Parse-Master-Key: demo-master-key' \\
        -d '{"name": "Admins", "ACL": {"*": {"read": true}},
             "users": {"__op": "AddRelation", "objects": [
               {"__type": "Pointer", "className": "_User", "objectId": "<alice objectId>"}]}}'
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.db.models.signals import post_migrate

from backend_kit import cloud
from backend_kit.errors import Code

TASK = "Task"
ADMINS = "Admins"
TITLE_MAX_LENGTH = 200

TASK_FIELDS: dict[str, dict[str, Any]] = {
    "title": {"type": "String"},
    "done": {"type": "Boolean"},
    "author": {"type": "Pointer", "targetClass": "_User"},
    # the author's name travels with the task: other users cannot read the _User itself
    "authorName": {"type": "String"},
    "attachment": {"type": "File"},
}
SIGNED_IN = {"requiresAuthentication": True}
TASK_PERMISSIONS: dict[str, Any] = {
    "find": SIGNED_IN,
    "count": SIGNED_IN,
    "get": SIGNED_IN,
    "create": SIGNED_IN,
    "update": SIGNED_IN,
    "delete": SIGNED_IN,
    "addField": {},
    "protectedFields": {"*": []},
}


def create_task_class(**kwargs: Any) -> None:
    """``post_migrate``: create the ``Task`` class unless it exists (then leave it alone)."""
    from backend_kit.objects.schema import create_class

    create_class(TASK, TASK_FIELDS, TASK_PERMISSIONS, exists_ok=True)


post_migrate.connect(
    create_task_class,
    sender=apps.get_app_config("backend_kit_objects"),
    dispatch_uid="example_project.cloud_demo.create_task_class",
)


def _clean_title(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise cloud.ParseError(Code.VALIDATION_ERROR, "A task needs a title.")
    title = value.strip()
    if len(title) > TITLE_MAX_LENGTH:
        raise cloud.ParseError(
            Code.VALIDATION_ERROR, f"A title has at most {TITLE_MAX_LENGTH} characters."
        )
    return title


@cloud.before_save(TASK)
def stamp_task(request: cloud.CloudRequest) -> None:
    """Check the title; on creation stamp the author and the author-writes ACL.

    The client cannot choose the author: it is the session's user, and stays so.
    """
    task = request.object
    assert task is not None
    task.set("title", _clean_title(task.get("title")))
    if request.original is not None:
        for key in ("author", "authorName"):
            if task.get(key) != request.original.get(key):
                task.set(key, request.original.get(key))
        return
    task.set("done", bool(task.get("done", False)))
    user = request.user
    if user is None:  # the master key (scripts, tests) sets what it likes
        return
    task.set("author", user.to_pointer())
    task.set("authorName", user.get("username"))
    task.set_acl({"*": {"read": True}, str(user.id): {"read": True, "write": True}})


@cloud.define("boardStats", validator={"require_any_user_roles": [ADMINS]})
def board_stats(request: cloud.CloudRequest) -> dict[str, Any]:
    """Counts over the whole board, for admins: total, done, open, and tasks per author."""
    total = cloud.Query(TASK).count(master=True)
    done = cloud.Query(TASK).equal_to("done", True).count(master=True)
    per_author: dict[str, int] = {}
    for task in cloud.Query(TASK).select("authorName").limit(1000).find(master=True):
        name = task.get("authorName") or "?"
        per_author[name] = per_author.get(name, 0) + 1
    return {"total": total, "done": done, "open": total - done, "byAuthor": per_author}
