"""Parse users: sign-up, log-in, updates and deletion on top of Django's user model."""

from __future__ import annotations

import re
from typing import Any

from django.contrib.auth import authenticate
from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, transaction

from ..conf import bk_settings
from ..context import RequestContext
from ..errors import Code, ParseError, permission_denied
from ..objects import reads, writes
from ..objects.handlers import ClassHandler
from ..objects.sql import class_is, compiler_for, connection, fetchall, tables
from . import authdata, sessions, signals, throttle
from .adapter import get_adapter
from .models import UserLink

USER_CLASS = "_User"
EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
ACCOUNT_KEYS = ("username", "password", "email", "authData")


def _conn_alias() -> str:
    return connection(write=True).alias


# --- lookups -----------------------------------------------------------------------------


def find_users(
    field: str, value: str, *, exclude_id: str | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """``_User`` objects whose ``field`` equals ``value`` ignoring case: (objectId, data)."""
    from ..objects.encoding import load_json

    conn = connection()
    table, _ = tables(conn)
    expr = compiler_for(conn, USER_CLASS, None, alias="o").text((field,))
    # the class written into the statement: the username and e-mail indexes are partial (class_is)
    user_class, _ = class_is('o."class_name"', USER_CLASS)
    sql = (
        f'SELECT o."object_id", o."data" FROM {table} AS o WHERE {user_class} '
        f"AND lower({expr}) = lower(%s)"
    )
    params: list[Any] = [value]
    if exclude_id:
        sql += ' AND o."object_id" <> %s'
        params.append(exclude_id)
    return [(r[0], load_json(r[1])) for r in fetchall(conn, sql, params)]


def check_username(username: Any, *, exclude_id: str | None = None) -> str:
    if not isinstance(username, str) or not username:
        raise ParseError(Code.USERNAME_MISSING, "bad or missing username")
    if find_users("username", username, exclude_id=exclude_id):
        raise ParseError(Code.USERNAME_TAKEN, "Account already exists for this username.")
    return username


def check_email(email: Any, *, exclude_id: str | None = None) -> str | None:
    if email is None:
        return None
    if not isinstance(email, str) or not EMAIL_RE.match(email):
        raise ParseError(Code.INVALID_EMAIL_ADDRESS, "Email address format is invalid.")
    if find_users("email", email, exclude_id=exclude_id):
        raise ParseError(Code.EMAIL_TAKEN, "Account already exists for this email address.")
    return email


def user_context(
    ctx: RequestContext, user_id: str, session: Any = None, token: str | None = None
) -> RequestContext:
    """A context acting as ``user_id`` (to read the user back the way it sees itself)."""
    from .sessions import UserRef

    return RequestContext(
        app_id=ctx.app_id,
        user=UserRef(user_id),
        session=session,
        session_token=token,
        installation_id=ctx.installation_id,
        client_version=ctx.client_version,
        ip=ctx.ip,
        headers=ctx.headers,
    )


def read_self(ctx: RequestContext, user_id: str, token: str | None = None) -> dict[str, Any]:
    obj = reads.get(user_context(ctx, user_id), USER_CLASS, user_id, {})
    if token:
        obj["sessionToken"] = token
    return obj


def user_output(ctx: RequestContext, obj: dict[str, Any]) -> dict[str, Any]:
    """``authData`` only for the user itself and the master key; never a password."""
    obj.pop("password", None)
    obj.pop("sessionToken", None)
    if not (ctx.has_master_rights or (ctx.user_id and ctx.user_id == obj.get("objectId"))):
        obj.pop("authData", None)
    return obj


# --- sign-up -----------------------------------------------------------------------------


def _doc_body(body: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in body.items() if k not in ACCOUNT_KEYS and k != "sessionToken"}


def _private_acl(user_id: str, acl: Any) -> dict[str, Any]:
    acl = dict(acl) if isinstance(acl, dict) else {}
    acl[user_id] = {"read": True, "write": True}
    return acl


def signup(ctx: RequestContext, body: Any) -> writes.WriteResult:
    if not isinstance(body, dict):
        raise ParseError(Code.INVALID_JSON, "request body must be a JSON object")
    auth_data = body.get("authData")
    has_auth = isinstance(auth_data, dict) and any(
        isinstance(v, dict) and v for v in auth_data.values()
    )
    if "authData" in body:
        authdata.parse_auth_data(auth_data)
    if has_auth:
        validated = authdata.validate(auth_data, ctx)
        existing = authdata.linked_object_ids(validated)
        if len(existing) > 1:
            raise ParseError(Code.ACCOUNT_ALREADY_LINKED, "this auth is already used")
        if existing:
            return _login_with_auth_data(ctx, existing.pop(), validated)
    else:
        validated = []
        if not isinstance(body.get("username"), str) or not body["username"]:
            raise ParseError(Code.USERNAME_MISSING, "bad or missing username")
        if not isinstance(body.get("password"), str) or not body["password"]:
            raise ParseError(Code.PASSWORD_MISSING, "password is required")
    if not ctx.is_master and "emailVerified" in body:
        raise permission_denied("Clients aren't allowed to manually update email verification.")
    adapter = get_adapter()
    with transaction.atomic(using=_conn_alias()):
        username = body.get("username") or adapter.generate_username()
        check_username(username)
        email = check_email(body.get("email"))
        password = body.get("password")
        user = adapter.new_user(username=username, email=email)
        if isinstance(password, str) and password:
            adapter.validate_password(password, user)
            user.set_password(password)
        else:
            user.set_unusable_password()
        try:
            with transaction.atomic(using=_conn_alias()), signals.creating_from_parse():
                user.save()
        except IntegrityError:
            raise ParseError(Code.USERNAME_TAKEN, "Account already exists for this username.")
        link = UserLink.objects.create(user=user, object_id=writes.new_object_id())
        doc = _doc_body(body)
        doc["username"] = username
        if email is not None:
            doc["email"] = email
        if bk_settings.VERIFY_USER_EMAILS and email and "emailVerified" not in doc:
            doc["emailVerified"] = False
        if validated:
            doc["authData"] = authdata.apply(link, validated)
        if bk_settings.ENFORCE_PRIVATE_USERS or "ACL" in doc:
            doc["ACL"] = _private_acl(link.object_id, doc.get("ACL"))
        try:
            result = writes.create(ctx, USER_CLASS, doc, object_id=link.object_id)
        except ParseError as exc:
            if exc.code == Code.DUPLICATE_VALUE:
                raise _duplicate(username, email)
            raise
        provider = validated[0].provider if validated else "password"
        token, _ = sessions.create_session(
            link.object_id,
            action="signup",
            provider=provider,
            installation_id=ctx.installation_id,
            ctx=ctx,
        )
    result.payload["sessionToken"] = token
    if bk_settings.VERIFY_USER_EMAILS and email:
        transaction.on_commit(lambda: _send_verification(link.object_id))
    signals.user_signed_up.send_robust(sender=USER_CLASS, object_id=link.object_id, context=ctx)
    return result


def _duplicate(username: str, email: str | None) -> ParseError:
    if find_users("username", username):
        return ParseError(Code.USERNAME_TAKEN, "Account already exists for this username.")
    return ParseError(Code.EMAIL_TAKEN, "Account already exists for this email address.")


def _login_with_auth_data(
    ctx: RequestContext, user_id: str, validated: list[authdata.Validated]
) -> writes.WriteResult:
    link = UserLink.objects.select_related("user").get(object_id=user_id)
    if not link.user.is_active:
        raise ParseError(Code.OBJECT_NOT_FOUND, "Invalid username/password.")
    with transaction.atomic(using=_conn_alias()):
        auth = authdata.apply(link, validated)
        writes.update(ctx.as_master(), USER_CLASS, user_id, {"authData": auth})
        token, _ = sessions.create_session(
            user_id,
            action="login",
            provider=validated[0].provider,
            installation_id=ctx.installation_id,
            ctx=ctx,
        )
    signals.user_logged_in.send_robust(sender=USER_CLASS, object_id=user_id, context=ctx)
    return writes.WriteResult(200, read_self(ctx, user_id, token))


# --- log-in -----------------------------------------------------------------------------


def login(
    ctx: RequestContext, params: dict[str, Any], *, create_session: bool = True
) -> dict[str, Any]:
    username, email, password = params.get("username"), params.get("email"), params.get("password")
    if not username and not email:
        raise ParseError(Code.USERNAME_MISSING, "username/email is required.")
    if not password:
        raise ParseError(Code.PASSWORD_MISSING, "password is required.")
    invalid = ParseError(Code.OBJECT_NOT_FOUND, "Invalid username/password.")
    if (
        not isinstance(password, str)
        or (email and not isinstance(email, str))
        or (username and not isinstance(username, str))
    ):
        raise invalid
    identifier = str(username or email)
    throttle.check(identifier, ctx.ip)
    user_id, django_user = _authenticate(username, email, password)
    if user_id is None:
        throttle.failure(identifier, ctx.ip)
        raise invalid
    doc = reads.fetch_one_as_master(USER_CLASS, user_id) or {}
    if not ctx.is_master and isinstance(doc.get("ACL"), dict) and not doc["ACL"]:
        raise invalid  # a user whose ACL is empty is locked out
    # the master key may ask to check the password of a user whose email is unverified
    skip_verification = ctx.is_master and params.get("ignoreEmailVerification") in (True, "true")
    if (
        bk_settings.VERIFY_USER_EMAILS
        and bk_settings.PREVENT_LOGIN_WITH_UNVERIFIED_EMAIL
        and not doc.get("emailVerified")
        and not skip_verification
    ):
        raise ParseError(Code.EMAIL_NOT_FOUND, "User email is not verified.")
    throttle.success(identifier)
    token = None
    if create_session:
        from ..objects import hooks

        trig = hooks.triggers()
        acting = user_context(ctx, user_id)
        if trig.has("beforeLogin", USER_CLASS):
            trig.before_login(acting, doc)
        token, _ = sessions.create_session(
            user_id, action="login", installation_id=ctx.installation_id, ctx=ctx
        )
        signals.user_logged_in.send_robust(sender=USER_CLASS, object_id=user_id, context=ctx)
        if trig.has("afterLogin", USER_CLASS):
            trig.after_login(acting, doc)
    return read_self(ctx, user_id, token)


def _authenticate(username: Any, email: Any, password: str) -> tuple[str | None, Any]:
    candidates: list[tuple[str, dict[str, Any]]] = []
    if username and email:
        candidates = [c for c in find_users("username", username) if c[1].get("email") == email]
    elif email:
        candidates = find_users("email", email)
    else:
        candidates = find_users("username", username) or find_users("email", username)
    exact = [
        c
        for c in candidates
        if c[1].get("username") == username
        or (email and c[1].get("email") == email)
        or (not email and c[1].get("email") == username)
    ]
    user_id = exact[0][0] if exact else None
    link = (
        UserLink.objects.select_related("user").filter(object_id=user_id).first()
        if user_id
        else None
    )
    if link is None or not link.user.has_usable_password():
        # Hash once anyway (as Django's ModelBackend does for a missing user), so the
        # time taken does not tell which usernames exist.
        make_password(password)
        return None, None
    user = authenticate(None, username=link.user.get_username(), password=password)
    if user is None or user.pk != link.user.pk:
        return None, None
    # Like django.contrib.auth.login(): the login is recorded, which also voids
    # outstanding password-reset tokens (they hash last_login).
    from django.contrib.auth.models import update_last_login

    with signals.creating_from_parse():  # nothing of the Parse side changes
        update_last_login(None, user)
    return user_id, user


# --- updates and deletion --------------------------------------------------------------------


def update(ctx: RequestContext, user_id: str, body: Any) -> writes.WriteResult:
    if not isinstance(body, dict):
        raise ParseError(Code.INVALID_JSON, "request body must be a JSON object")
    if not ctx.is_master and ctx.user_id != user_id:
        raise permission_denied(f"Cannot modify user {user_id}.", Code.SESSION_MISSING)
    if not ctx.is_master and "emailVerified" in body:
        raise permission_denied("Clients aren't allowed to manually update email verification.")
    link = UserLink.objects.select_related("user").filter(object_id=user_id).first()
    if link is None:
        raise ParseError(Code.OBJECT_NOT_FOUND, "Object not found.")
    adapter = get_adapter()
    doc = _doc_body(body)
    password_changed = False
    with transaction.atomic(using=_conn_alias()):
        django_user = link.user
        touched = False
        if "username" in body or "email" in body:
            # the adapter maps the whole pair: with the address as the Django username,
            # a new username must not overwrite it (nor a removed address leave it empty)
            current = reads.fetch_one_as_master(USER_CLASS, user_id) or {}
            username = current.get("username") or django_user.get_username()
            email = current.get("email")
            if "username" in body:
                username = check_username(body["username"], exclude_id=user_id)
                doc["username"] = username
            if "email" in body:
                email = body["email"]
                if isinstance(email, dict) and email.get("__op") == "Delete":
                    email = None
                    doc["email"] = {"__op": "Delete"}
                else:
                    email = check_email(email, exclude_id=user_id)
                    doc["email"] = email
                    if bk_settings.VERIFY_USER_EMAILS and "emailVerified" not in doc:
                        doc["emailVerified"] = False
            adapter.populate_user(django_user, username=username, email=email or None)
            touched = True
        if "password" in body:
            password = body["password"]
            if not isinstance(password, str) or not password:
                raise ParseError(Code.PASSWORD_MISSING, "password is required")
            adapter.validate_password(password, django_user)
            django_user.set_password(password)
            password_changed = touched = True
        if "authData" in body:
            validated = authdata.validate(authdata.parse_auth_data(body["authData"]), ctx)
            auth = authdata.apply(link, validated)
            if password_changed and "anonymous" in auth:
                authdata.apply(link, [authdata.Validated("anonymous", None, None)])
                auth.pop("anonymous")
            doc["authData"] = auth if auth else {"__op": "Delete"}
        elif password_changed and "anonymous" in authdata.current(link):
            # an anonymous user who sets a password is no longer anonymous
            auth = authdata.apply(link, [authdata.Validated("anonymous", None, None)])
            doc["authData"] = auth if auth else {"__op": "Delete"}
        if "ACL" in doc and not ctx.is_master and isinstance(doc["ACL"], dict):
            doc["ACL"] = _private_acl(user_id, doc["ACL"])
        if touched:
            try:
                with transaction.atomic(using=_conn_alias()), signals.creating_from_parse():
                    django_user.save()
            except IntegrityError:
                raise ParseError(Code.USERNAME_TAKEN, "Account already exists for this username.")
        result = writes.update(ctx, USER_CLASS, user_id, doc)
        if password_changed and bk_settings.REVOKE_SESSION_ON_PASSWORD_RESET:
            # the caller's own session survives: the client that changed it stays logged in
            sessions.revoke_user_sessions(
                user_id, keep_token=ctx.session_token if ctx.user_id == user_id else None
            )
    if "email" in body and bk_settings.VERIFY_USER_EMAILS and doc.get("email"):
        transaction.on_commit(lambda: _send_verification(user_id))
    return result


def delete(ctx: RequestContext, user_id: str) -> dict[str, Any]:
    if not ctx.is_master and ctx.user_id is None:
        raise ParseError(Code.SESSION_MISSING, "Insufficient auth to delete user")
    if not ctx.is_master and ctx.user_id != user_id:
        # Parse turns "not found for the caller" on _User into 206, sanitized
        raise permission_denied(f"Cannot delete user {user_id}.", Code.SESSION_MISSING)
    with transaction.atomic(using=_conn_alias()):
        writes.delete(ctx, USER_CLASS, user_id)
        sessions.revoke_user_sessions(user_id)
        link = UserLink.objects.select_related("user").filter(object_id=user_id).first()
        if link is not None:
            with signals.creating_from_parse():
                link.user.delete()
    return {}


def _send_verification(user_id: str) -> None:
    from .mail import send_verification_email

    send_verification_email(user_id)


class UserHandler(ClassHandler):
    """``/classes/_User`` behaves like ``/users``."""

    def create(self, ctx: RequestContext, class_name: str, body: Any) -> Any:
        return signup(ctx, body)

    def update(self, ctx: RequestContext, class_name: str, object_id: str, body: Any) -> Any:
        return update(ctx, object_id, body)

    def delete(self, ctx: RequestContext, class_name: str, object_id: str) -> dict[str, Any]:
        return delete(ctx, object_id)

    def purge(self, class_name: str) -> None:
        """Purging ``_User`` deletes the Django users of every Parse user, but never a
        staff or superuser account: those lose only their Parse side (link and sessions)."""
        links = UserLink.objects.select_related("user")
        with signals.creating_from_parse():
            for link in links:
                sessions.revoke_user_sessions(link.object_id)
                if link.user.is_staff or link.user.is_superuser:
                    link.delete()
                else:
                    link.user.delete()


def ensure_parse_user(django_user: Any) -> str:
    """The ``_User`` objectId of a Django user, creating the Parse side if missing."""
    link = UserLink.objects.filter(user=django_user).first()
    if link is not None:
        return link.object_id
    with transaction.atomic(using=_conn_alias()):
        link = UserLink.objects.create(user=django_user, object_id=writes.new_object_id())
        username, email = get_adapter().parse_identity(django_user)
        doc: dict[str, Any] = {"username": username}
        if email and not find_users("email", email):
            doc["email"] = email
        if bk_settings.ENFORCE_PRIVATE_USERS:
            doc["ACL"] = _private_acl(link.object_id, None)
        writes.create(
            RequestContext.master(app_id=bk_settings.APP_ID),
            USER_CLASS,
            doc,
            object_id=link.object_id,
        )
    return link.object_id
