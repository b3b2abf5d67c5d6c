"""Pages the mails link to: confirm an e-mail address, choose a new password."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.cache import never_cache
from django.views.decorators.debug import sensitive_post_parameters

from ..conf import bk_settings
from ..context import RequestContext
from ..errors import ParseError
from ..objects import reads, writes
from . import sessions
from .adapter import get_adapter
from .mail import read_verification_token
from .models import UserLink


def _check_app(app_id: str) -> None:
    if app_id != bk_settings.APP_ID:
        raise Http404("unknown application")


def _base(**extra: Any) -> dict[str, Any]:
    return {"app_name": bk_settings.APP_NAME, **extra}


@never_cache
def verify_email(request: HttpRequest, app_id: str) -> HttpResponse:
    _check_app(app_id)
    decoded = read_verification_token(request.GET.get("token", ""))
    ok = False
    email = ""
    if decoded is not None:
        user_id, email = decoded
        user = reads.fetch_one_as_master("_User", user_id) if user_id else None
        if user is not None and user.get("email") == email:
            if not user.get("emailVerified"):
                writes.update(
                    RequestContext.master(app_id=app_id), "_User", user_id, {"emailVerified": True}
                )
            ok = True
    return render(
        request,
        "backend_kit_accounts/verify_email.html",
        _base(ok=ok, email=email),
        status=200 if ok else 400,
    )


@never_cache
@sensitive_post_parameters("new_password", "confirm_password")
def reset_password(request: HttpRequest, app_id: str) -> HttpResponse:
    _check_app(app_id)
    data = request.POST if request.method == "POST" else request.GET
    uid, token = data.get("uid", ""), data.get("token", "")
    link = UserLink.objects.select_related("user").filter(object_id=uid).first()
    valid = link is not None and default_token_generator.check_token(link.user, token)
    context = _base(
        uid=uid, token=token, username=link.user.get_username() if link else "", errors=[]
    )
    if not valid:
        return render(
            request,
            "backend_kit_accounts/reset_password.html",
            {**context, "invalid": True},
            status=400,
        )
    if request.method != "POST":
        return render(request, "backend_kit_accounts/reset_password.html", context)
    password, confirm = (
        request.POST.get("new_password", ""),
        request.POST.get("confirm_password", ""),
    )
    errors = []
    if password != confirm:
        errors.append("The two passwords differ.")
    else:
        try:
            get_adapter().validate_password(password, link.user)
        except ParseError as exc:
            errors.append(exc.message)
        except ValidationError as exc:
            errors.extend(exc.messages)
    if errors:
        return render(
            request,
            "backend_kit_accounts/reset_password.html",
            {**context, "errors": errors},
            status=400,
        )
    from .signals import creating_from_parse

    with transaction.atomic():
        link.user.set_password(password)
        with creating_from_parse():
            link.user.save(update_fields=["password"])
        if bk_settings.REVOKE_SESSION_ON_PASSWORD_RESET:
            sessions.revoke_user_sessions(link.object_id)
    return render(request, "backend_kit_accounts/reset_password.html", {**context, "done": True})
