"""The accounts endpoints of the Parse API."""

from __future__ import annotations

import logging
from typing import Any

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from ..api import ParseAPIView
from ..context import RequestContext
from ..errors import Code, ParseError, permission_denied
from ..objects import reads
from ..objects.openapi import OBJECT_BODY, error_responses, object_response, results_response
from ..objects.views import ClassView, ObjectView, location
from . import sessions, signals, users
from .mail import check_email_param, send_password_reset_email, send_verification_email

logger = logging.getLogger("backend_kit.accounts")
_ok = {200: object_response, **error_responses}


class UsersView(ParseAPIView):
    @extend_schema(operation_id="users_find", responses={200: results_response, **error_responses})
    def get(self, request: Any) -> Response:
        return Response(reads.find(request.bk, "_User", self.params))

    @extend_schema(
        operation_id="users_signup",
        request=OBJECT_BODY,
        responses={201: object_response, **error_responses},
    )
    def post(self, request: Any) -> Response:
        result = users.signup(request.bk, request.data)
        headers = {}
        if result.status == 201:
            headers["Location"] = location(
                request._request, "", result.payload["objectId"], base="users"
            )
        return Response(result.payload, status=result.status, headers=headers)


class UserView(ParseAPIView):
    @extend_schema(operation_id="users_get", responses=_ok)
    def get(self, request: Any, object_id: str) -> Response:
        return Response(reads.get(request.bk, "_User", object_id, self.params))

    @extend_schema(operation_id="users_update", request=OBJECT_BODY, responses=_ok)
    def put(self, request: Any, object_id: str) -> Response:
        return Response(users.update(request.bk, object_id, request.data).payload)

    @extend_schema(operation_id="users_delete", responses=_ok)
    def delete(self, request: Any, object_id: str) -> Response:
        return Response(users.delete(request.bk, object_id))


class MeView(ParseAPIView):
    @extend_schema(operation_id="users_me", responses=_ok)
    def get(self, request: Any) -> Response:
        ctx: RequestContext = request.bk
        if ctx.user_id is None:
            raise ParseError(Code.INVALID_SESSION_TOKEN, "Invalid session token")
        obj = reads.get(ctx, "_User", ctx.user_id, self.params)
        obj["sessionToken"] = ctx.session_token
        return Response(obj)


class LoginView(ParseAPIView):
    ignore_session_token = True

    def _login(self, request: Any, params: dict[str, Any]) -> Response:
        return Response(users.login(request.bk, params))

    @extend_schema(operation_id="login_get", responses=_ok)
    def get(self, request: Any) -> Response:
        return self._login(request, self.params)

    @extend_schema(operation_id="login", request=OBJECT_BODY, responses=_ok)
    def post(self, request: Any) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        return self._login(request, {**self.params, **body})


class VerifyPasswordView(ParseAPIView):
    ignore_session_token = True

    @extend_schema(operation_id="verify_password_get", responses=_ok)
    def get(self, request: Any) -> Response:
        return Response(users.login(request.bk, self.params, create_session=False))

    @extend_schema(operation_id="verify_password", request=OBJECT_BODY, responses=_ok)
    def post(self, request: Any) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        return Response(users.login(request.bk, {**self.params, **body}, create_session=False))


class LogoutView(ParseAPIView):
    @extend_schema(operation_id="logout", request=OBJECT_BODY, responses=_ok)
    def post(self, request: Any) -> Response:
        ctx: RequestContext = request.bk
        if ctx.session_token:
            session = (
                reads.fetch_one_as_master("_Session", ctx.session.object_id)
                if ctx.session
                else None
            )
            sessions.revoke_token(ctx.session_token)
            signals.user_logged_out.send_robust(sender="_User", object_id=ctx.user_id, context=ctx)
            from ..objects import hooks

            if session is not None and hooks.triggers().has("afterLogout", "_Session"):
                hooks.triggers().after_logout(ctx, session)
        return Response({})


class LoginAsView(ParseAPIView):
    @extend_schema(operation_id="login_as", request=OBJECT_BODY, responses=_ok)
    def post(self, request: Any) -> Response:
        # Parse answers 119 here (not the 403 of master-only routes)
        if request.bk.is_read_only_master:
            raise permission_denied("read-only masterKey isn't allowed to login as another user.")
        if not request.bk.is_master:
            raise permission_denied("master key is required")
        body = request.data if isinstance(request.data, dict) else {}
        user_id = body.get("userId")
        if not isinstance(user_id, str) or not user_id:
            raise ParseError(Code.INVALID_VALUE, "userId must not be empty, null, or undefined")
        if reads.fetch_one_as_master("_User", user_id) is None:
            raise ParseError(Code.OBJECT_NOT_FOUND, "user not found")
        token, _ = sessions.create_session(
            user_id,
            action="login",
            provider="masterkey",
            installation_id=request.bk.installation_id,
            ctx=request.bk,
        )
        return Response(users.read_self(request.bk, user_id, token))


class RequestPasswordResetView(ParseAPIView):
    @extend_schema(operation_id="request_password_reset", request=OBJECT_BODY, responses=_ok)
    def post(self, request: Any) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        email = check_email_param(body.get("email"))
        found = users.find_users("email", email) or [
            c for c in users.find_users("username", email) if not c[1].get("email")
        ]
        if found:
            try:
                send_password_reset_email(found[0][0])
            except Exception:
                # A failing mail backend must not tell known addresses from unknown ones.
                logger.exception("password reset mail could not be sent")
        return Response({})  # the same answer whether or not the address is known


class VerificationEmailRequestView(ParseAPIView):
    @extend_schema(operation_id="verification_email_request", request=OBJECT_BODY, responses=_ok)
    def post(self, request: Any) -> Response:
        body = request.data if isinstance(request.data, dict) else {}
        email = check_email_param(body.get("email"))
        found = users.find_users("email", email)
        if not found:
            raise ParseError(Code.EMAIL_NOT_FOUND, f"No user found with email {email}")
        if found[0][1].get("emailVerified"):
            raise ParseError(Code.OTHER_CAUSE, f"Email {email} is already verified.")
        send_verification_email(found[0][0])
        return Response({})


class UpgradeSessionView(ParseAPIView):
    @extend_schema(operation_id="upgrade_to_revocable_session", request=OBJECT_BODY, responses=_ok)
    def post(self, request: Any) -> Response:
        ctx: RequestContext = request.bk
        if ctx.user_id is None:
            raise ParseError(Code.OBJECT_NOT_FOUND, "invalid session")
        token, session = sessions.create_session(
            ctx.user_id, action="upgrade", installation_id=ctx.installation_id, ctx=ctx
        )
        return Response(session)


class SessionsView(ParseAPIView):
    @extend_schema(
        operation_id="sessions_find", responses={200: results_response, **error_responses}
    )
    def get(self, request: Any) -> Response:
        return Response(sessions.SessionHandler().find(request.bk, "_Session", self.params))

    @extend_schema(
        operation_id="sessions_create",
        request=OBJECT_BODY,
        responses={201: object_response, **error_responses},
    )
    def post(self, request: Any) -> Response:
        result = sessions.SessionHandler().create(request.bk, "_Session", request.data)
        return Response(result.payload, status=result.status)


class SessionMeView(ParseAPIView):
    @extend_schema(operation_id="sessions_me", responses=_ok)
    def get(self, request: Any) -> Response:
        return Response(sessions.current_session(request.bk))


class SessionView(ParseAPIView):
    @extend_schema(operation_id="sessions_get", responses=_ok)
    def get(self, request: Any, object_id: str) -> Response:
        return Response(reads.get(request.bk, "_Session", object_id, self.params))

    @extend_schema(operation_id="sessions_update", request=OBJECT_BODY, responses=_ok)
    def put(self, request: Any, object_id: str) -> Response:
        return Response(
            sessions.SessionHandler()
            .update(request.bk, "_Session", object_id, request.data)
            .payload
        )

    @extend_schema(operation_id="sessions_delete", responses=_ok)
    def delete(self, request: Any, object_id: str) -> Response:
        return Response(sessions.SessionHandler().delete(request.bk, "_Session", object_id))


class RolesView(ClassView):
    """``/roles``: the ``_Role`` class (its own OpenAPI operations)."""

    @extend_schema(operation_id="roles_find", responses={200: results_response, **error_responses})
    def get(self, request: Any, class_name: str = "_Role") -> Response:
        return super().get(request, "_Role")

    @extend_schema(
        operation_id="roles_create",
        request=OBJECT_BODY,
        responses={201: object_response, **error_responses},
    )
    def post(self, request: Any, class_name: str = "_Role") -> Response:
        return super().post(request, "_Role")


class RoleView(ObjectView):
    @extend_schema(operation_id="roles_get", responses=_ok)
    def get(self, request: Any, object_id: str, class_name: str = "_Role") -> Response:
        return super().get(request, "_Role", object_id)

    @extend_schema(operation_id="roles_update", request=OBJECT_BODY, responses=_ok)
    def put(self, request: Any, object_id: str, class_name: str = "_Role") -> Response:
        return super().put(request, "_Role", object_id)

    @extend_schema(operation_id="roles_delete", responses=_ok)
    def delete(self, request: Any, object_id: str, class_name: str = "_Role") -> Response:
        return super().delete(request, "_Role", object_id)
