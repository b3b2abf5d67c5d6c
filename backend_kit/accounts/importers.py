"""``bk_import`` for the accounts classes: users who can log in, roles, live sessions.

``_User``
    Each user becomes a Django user (username, email, date joined) linked to its
    ``_User`` object by a :class:`~backend_kit.accounts.models.UserLink` with the Parse
    objectId. Parse's bcrypt hash (``_hashed_password`` in MongoDB, ``bcryptPassword``
    in a hosted Parse export) becomes the Django password ``parse_bcrypt$<hash>``, read
    by :class:`~backend_kit.accounts.hashers.ParseBCryptPasswordHasher`; it never stays
    in the object. ``authData.<provider>.id`` (MongoDB: ``_auth_data_<provider>``)
    becomes an :class:`~backend_kit.accounts.models.AuthIdentity`. Re-importing
    updates users, never duplicates them; a password changed here since (or upgraded
    at the first login) is not replaced by the hash in the file.
``_Role``
    Names are checked and unique; the ``users`` / ``roles`` memberships come from the
    ``_Join:users:_Role`` / ``_Join:roles:_Role`` files. Cached role lists are dropped.
``_Session``
    Only with ``--sessions``: each ``sessionToken`` (``r:...``) is kept as its hash,
    so clients logged in on the old server stay logged in.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import get_hashers_by_algorithm, make_password
from django.utils import timezone

from ..errors import ParseError
from ..objects.sql import compiler_for, connection, fetchall, tables
from ..objects.transfer import (
    ID_LOOKUP_SLICE,
    ClassImporter,
    Counts,
    ImportOptions,
    ImportRow,
    RecordError,
    TransferError,
    register_importer,
    upsert_rows,
)
from . import roles, sessions
from .adapter import get_adapter
from .hashers import ALGORITHM, HASHER_PATH, from_parse, is_parse_hash
from .models import AuthIdentity, UserLink
from .users import USER_CLASS

# Parse Server's own bookkeeping on _User: its tokens and counters mean nothing here
# (password resets, verification and lockout are Django's and backend_kit's).
PARSE_USER_INTERNALS = frozenset(
    {
        "_hashed_password",
        "_session_token",
        "_email_verify_token",
        "_email_verify_token_expires_at",
        "_perishable_token",
        "_perishable_token_expires_at",
        "_password_changed_at",
        "_password_history",
        "_failed_login_count",
        "_account_lockout_expires_at",
        "_tombstone",
    }
)


def register() -> None:
    """Plug the accounts importers into ``bk_import`` (from ``AppConfig.ready()``)."""
    register_importer(USER_CLASS, UserImporter())
    register_importer(roles.ROLE_CLASS, RoleImporter())
    register_importer(sessions.SESSION_CLASS, SessionImporter())


def hasher_problem() -> str | None:
    """Why imported Parse passwords could not be checked here, or None."""
    try:
        import bcrypt  # noqa: F401
    except ImportError:
        return "the bcrypt library is missing: pip install 'django-backend-kit[bcrypt]'"
    if ALGORITHM not in get_hashers_by_algorithm():
        return (
            f"PASSWORD_HASHERS must list {HASHER_PATH!r} (after your preferred hasher) "
            "for imported users to log in with their Parse passwords"
        )
    return None


def stored_owners(
    class_name: str, key: str, values: Iterable[str], *, ignore_case: bool = False
) -> dict[str, str]:
    """``{value: objectId}`` of stored ``class_name`` objects whose ``key`` is one of
    ``values`` (compared lower-cased with ``ignore_case``; the keys are then lower-case)."""
    conn = connection(write=True)
    table, _ = tables(conn)
    expr = compiler_for(conn, class_name, None, alias="o").text((key,))
    if ignore_case:
        expr = f"lower({expr})"
    wanted = sorted({v.lower() if ignore_case else v for v in values})
    found: dict[str, str] = {}
    for start in range(0, len(wanted), ID_LOOKUP_SLICE):
        part = wanted[start : start + ID_LOOKUP_SLICE]
        marks = ", ".join(["%s"] * len(part))
        for value, object_id in fetchall(
            conn,
            f'SELECT {expr}, o."object_id" FROM {table} AS o '
            f'WHERE o."class_name" = %s AND {expr} IN ({marks})',
            [class_name, *part],
        ):
            found[value] = object_id
    return found


def _in_slices(queryset: Any, lookup: str, values: Iterable[Any]) -> list[Any]:
    values = list(values)
    out: list[Any] = []
    for start in range(0, len(values), ID_LOOKUP_SLICE):
        out.extend(queryset.filter(**{lookup: values[start : start + ID_LOOKUP_SLICE]}))
    return out


class UniqueValues:
    """Collects the rows of a batch that would take a value another object holds."""

    def __init__(self) -> None:
        self.refused: dict[str, str] = {}

    def check(
        self,
        rows: list[ImportRow],
        value_of: Any,
        stored: dict[str, str],
        what: str,
        *,
        secret: bool = False,
    ) -> None:
        """``value_of(row)`` -> the row's value (None: none); ``stored``: value -> holder.
        A ``secret`` value is not repeated in the message."""
        seen: dict[str, str] = {}
        for row in rows:
            value = value_of(row)
            if value is None or row.object_id in self.refused:
                continue
            holder = stored.get(value, seen.get(value))
            if holder is not None and holder != row.object_id:
                shown = what if secret else f"{what} {value!r}"
                self.refused[row.object_id] = f"{shown} is taken by {holder}"
            else:
                seen[value] = row.object_id


# --- _User ----------------------------------------------------------------------------------


def _lower(row: ImportRow, key: str) -> str | None:
    value = row.data.get(key)
    return value.lower() if isinstance(value, str) else None


class UserImporter(ClassImporter):
    """``_User`` objects -> Django users, links, identities and the ``_User`` documents."""

    def convert(self, class_name: str, record: dict[str, Any]) -> ImportRow:
        row = super().convert(class_name, record)
        password_hash = row.data.get("_hashed_password")
        for key in PARSE_USER_INTERNALS:
            row.data.pop(key, None)
        for key in ("password", "sessionToken"):  # never kept in the clear
            row.data.pop(key, None)
            row.types.pop(key, None)
        if password_hash is not None:
            if not is_parse_hash(password_hash):
                raise RecordError(class_name, row.object_id, "not a bcrypt hash", "password")
            problem = hasher_problem()
            if problem:
                raise TransferError(problem)
            row.extra["password"] = from_parse(password_hash)
        username, email = row.data.get("username"), row.data.get("email")
        if not isinstance(username, str) or not username:
            raise RecordError(class_name, row.object_id, "a user needs a username", "username")
        if email is not None and not isinstance(email, str):
            raise RecordError(class_name, row.object_id, "must be a string", "email")
        row.extra["identities"] = self._identities(class_name, row)
        return row

    def _identities(self, class_name: str, row: ImportRow) -> dict[str, tuple[str, Any]]:
        """``{provider: (uid, data)}`` from ``authData``; unlinked (null) providers go."""
        auth = row.data.get("authData")
        if auth is None:
            return {}
        if not isinstance(auth, dict):
            raise RecordError(class_name, row.object_id, "must be an object", "authData")
        found: dict[str, tuple[str, Any]] = {}
        for provider, data in auth.items():
            if data is None:
                continue
            uid = data.get("id") if isinstance(data, dict) else None
            if isinstance(uid, int) and not isinstance(uid, bool):
                uid = str(uid)
            if not isinstance(uid, str) or not uid:
                raise RecordError(class_name, row.object_id, "needs an id", f"authData.{provider}")
            found[provider] = (uid, data)
        if found:
            row.data["authData"] = {provider: data for provider, (_, data) in found.items()}
        else:
            row.data.pop("authData", None)
        return found

    def problems(
        self, class_name: str, rows: list[ImportRow], options: ImportOptions
    ) -> dict[str, str]:
        unique = UniqueValues()
        for key in ("username", "email"):
            values = [v for v in (_lower(row, key) for row in rows) if v is not None]
            stored = stored_owners(class_name, key, values, ignore_case=True)
            unique.check(rows, lambda row, key=key: _lower(row, key), stored, key)
        model = get_user_model()
        field = model.USERNAME_FIELD
        max_length = model._meta.get_field(field).max_length
        names = {row.object_id: self._django_name(row) for row in rows}
        for row in rows:
            if max_length and len(names[row.object_id]) > max_length:
                unique.refused.setdefault(
                    row.object_id, f"{field} is longer than {max_length} characters"
                )
        holders = {
            getattr(user, field): user.pk
            for user in _in_slices(model.objects.all(), f"{field}__in", set(names.values()))
        }
        linked = dict(
            UserLink.objects.filter(user_id__in=list(holders.values())).values_list(
                "user_id", "object_id"
            )
        )
        stored_names = {name: linked.get(pk, f"Django user #{pk}") for name, pk in holders.items()}
        unique.check(rows, lambda row: names[row.object_id], stored_names, f"Django {field}")
        pairs = {
            (provider, uid): row.object_id
            for row in rows
            for provider, (uid, _) in row.extra["identities"].items()
        }
        taken = {
            (i.provider, i.uid): i.link.object_id
            for i in _in_slices(
                AuthIdentity.objects.select_related("link"), "uid__in", {u for _, u in pairs}
            )
            if (i.provider, i.uid) in pairs
        }
        for (provider, uid), object_id in pairs.items():
            holder = taken.get((provider, uid))
            if holder is not None and holder != object_id:
                unique.refused.setdefault(
                    object_id, f"authData.{provider} {uid!r} is taken by {holder}"
                )
        owners: dict[tuple[str, str], str] = {}
        for row in rows:
            for provider, (uid, _) in row.extra["identities"].items():
                first = owners.setdefault((provider, uid), row.object_id)
                if first != row.object_id:
                    unique.refused.setdefault(
                        row.object_id, f"authData.{provider} {uid!r} is taken by {first}"
                    )
        return unique.refused

    def _django_name(self, row: ImportRow) -> str:
        user = get_adapter().new_user(username=row.data["username"], email=row.data.get("email"))
        return str(getattr(user, type(user).USERNAME_FIELD))

    def write_batch(self, class_name: str, rows: list[ImportRow], options: ImportOptions) -> Counts:
        counts = upsert_rows(class_name, rows, options, drop_internal=PARSE_USER_INTERNALS)
        if options.skip_existing:
            # users whose object was there already are left as they are
            existing = set(
                UserLink.objects.filter(object_id__in=[r.object_id for r in rows]).values_list(
                    "object_id", flat=True
                )
            )
            rows = [row for row in rows if row.object_id not in existing]
        links = self._django_users(rows)
        self._identities_of(rows, links)
        return counts

    def _django_users(self, rows: list[ImportRow]) -> dict[str, UserLink]:
        """Create or update the Django user of every row; ``{objectId: link}``."""
        model = get_user_model()
        adapter = get_adapter()
        links = {
            link.object_id: link
            for link in _in_slices(
                UserLink.objects.select_related("user"),
                "object_id__in",
                [r.object_id for r in rows],
            )
        }
        names = {f.name for f in model._meta.get_fields()}
        tracked = [
            n
            for n in {model.USERNAME_FIELD, model.get_email_field_name(), "username"}
            if n in names
        ]
        created: list[tuple[ImportRow, Any]] = []
        changed: list[Any] = []
        changed_fields: set[str] = set()
        for row in rows:
            username, email = row.data["username"], row.data.get("email") or None
            link = links.get(row.object_id)
            if link is None:
                user = adapter.new_user(username=username, email=email)
                user.password = row.extra.get("password") or make_password(None)
                if "date_joined" in names and row.created_at is not None:
                    user.date_joined = row.created_at
                created.append((row, user))
                continue
            user = link.user
            before = {n: getattr(user, n) for n in tracked}
            adapter.populate_user(user, username=username, email=email)
            fields = {n for n in tracked if getattr(user, n) != before[n]}
            new_password = row.extra.get("password")
            # a password set or upgraded here since the last import wins over the file's
            if (
                new_password
                and user.password != new_password
                and (not user.has_usable_password() or user.password.startswith(ALGORITHM + "$"))
            ):
                user.password = new_password
                fields.add("password")
            if fields:
                changed.append(user)
                changed_fields |= fields
        if changed:
            model.objects.bulk_update(changed, sorted(changed_fields))
        if created:
            users = model.objects.bulk_create([user for _, user in created])
            if any(user.pk is None for user in users):  # a backend without RETURNING
                field = model.USERNAME_FIELD
                pks = dict(
                    model.objects.filter(
                        **{f"{field}__in": [getattr(u, field) for u in users]}
                    ).values_list(field, "pk")
                )
                for user in users:
                    user.pk = pks[getattr(user, field)]
            new_links = UserLink.objects.bulk_create(
                [UserLink(user=user, object_id=row.object_id) for row, user in created]
            )
            if any(link.pk is None for link in new_links):
                new_links = _in_slices(
                    UserLink.objects.all(), "object_id__in", [r.object_id for r, _ in created]
                )
            links.update({link.object_id: link for link in new_links})
        return links

    def _identities_of(self, rows: list[ImportRow], links: dict[str, UserLink]) -> None:
        """Make each user's AuthIdentity rows match its ``authData``."""
        link_ids = [links[r.object_id].pk for r in rows if r.object_id in links]
        current = {
            (i.link_id, i.provider): i
            for i in _in_slices(AuthIdentity.objects.all(), "link_id__in", link_ids)
        }
        wanted: set[tuple[int, str]] = set()
        new: list[AuthIdentity] = []
        changed: list[AuthIdentity] = []
        for row in rows:
            link = links.get(row.object_id)
            if link is None:
                continue
            for provider, (uid, data) in row.extra["identities"].items():
                wanted.add((link.pk, provider))
                identity = current.get((link.pk, provider))
                if identity is None:
                    new.append(AuthIdentity(link=link, provider=provider, uid=uid, data=data))
                elif identity.uid != uid or identity.data != data:
                    identity.uid, identity.data, identity.updated_at = uid, data, timezone.now()
                    changed.append(identity)
        gone = [i.pk for key, i in current.items() if key not in wanted]
        if gone:
            AuthIdentity.objects.filter(pk__in=gone).delete()
        if changed:
            AuthIdentity.objects.bulk_update(changed, ["uid", "data", "updated_at"])
        if new:
            AuthIdentity.objects.bulk_create(new)


# --- _Role and _Session -------------------------------------------------------------------


class RoleImporter(ClassImporter):
    """``_Role``: a valid name that no other role holds; role caches dropped after commit."""

    def convert(self, class_name: str, record: dict[str, Any]) -> ImportRow:
        row = super().convert(class_name, record)
        try:
            roles.check_role_name(row.data.get("name"))
        except ParseError as exc:
            raise RecordError(class_name, row.object_id, exc.message, "name") from None
        return row

    def problems(
        self, class_name: str, rows: list[ImportRow], options: ImportOptions
    ) -> dict[str, str]:
        unique = UniqueValues()
        stored = stored_owners(class_name, "name", [row.data["name"] for row in rows])
        unique.check(rows, lambda row: row.data["name"], stored, "name")
        return unique.refused

    def write_batch(self, class_name: str, rows: list[ImportRow], options: ImportOptions) -> Counts:
        counts = super().write_batch(class_name, rows, options)
        roles.invalidate_after_commit()
        return counts

    def relations_written(self, owner_class: str, key: str) -> None:
        roles.invalidate_after_commit()


class SessionImporter(ClassImporter):
    """``_Session`` (with ``--sessions``): the token kept as its hash, never in the clear."""

    def skip_reason(self, class_name: str, options: ImportOptions) -> str | None:
        if options.sessions:
            return None
        return "sessions are imported with --sessions only (without, users log in again)"

    def convert(self, class_name: str, record: dict[str, Any]) -> ImportRow:
        row = super().convert(class_name, record)
        token = row.data.pop("sessionToken", None) or row.data.pop("_session_token", None)
        row.data.pop("_session_token", None)
        row.types.pop("sessionToken", None)
        if not isinstance(token, str) or not token:
            raise RecordError(class_name, row.object_id, "a session needs its sessionToken")
        user = row.data.get("user")
        if not (
            isinstance(user, dict)
            and user.get("__type") == "Pointer"
            and user.get("className") == USER_CLASS
        ):
            raise RecordError(class_name, row.object_id, "must point to a _User", "user")
        row.data[sessions.TOKEN_HASH] = sessions.hash_token(token)
        if row.acl is None:  # Parse gives a session to its user alone
            row.acl = {user["objectId"]: {"read": True, "write": True}}
        return row

    def problems(
        self, class_name: str, rows: list[ImportRow], options: ImportOptions
    ) -> dict[str, str]:
        unique = UniqueValues()
        hashes = [row.data[sessions.TOKEN_HASH] for row in rows]
        stored = stored_owners(class_name, sessions.TOKEN_HASH, hashes)
        unique.check(
            rows, lambda row: row.data[sessions.TOKEN_HASH], stored, "its sessionToken", secret=True
        )
        return unique.refused

    def write_batch(self, class_name: str, rows: list[ImportRow], options: ImportOptions) -> Counts:
        return upsert_rows(class_name, rows, options, drop_internal={"_session_token"})
