"""Account mails (password reset, email verification) sent by a background task.

``AccountAdapter.send_mail`` calls :func:`send_account_mail` when this app is
installed, so a slow or failing mail server never holds up ``/requestPasswordReset``.
An adapter that overrides ``send_mail`` (the conformance modes' recording adapter)
decides for itself and never reaches this module.
"""

from __future__ import annotations

import logging

from django.core.mail import send_mail

from . import MAIL_TASK, backends

log = logging.getLogger("backend_kit.jobs")


def send_account_mail(
    kind: str, to: str, subject: str, body: str, *, link: str | None = None
) -> None:
    """Queue one account mail (``kind`` is ``passwordReset`` or ``verifyEmail``).

    It leaves after the current transaction commits, so no mail goes out for a
    change that was rolled back.
    """
    payload = {"kind": kind, "to": to, "subject": subject, "body": body, "link": link}
    backends.submit_task(MAIL_TASK, payload, deliver)


def deliver(kind: str, to: str, subject: str, body: str, link: str | None = None) -> None:
    """Send the mail through Django's email backend (``EMAIL_BACKEND``)."""
    log.info("sending %s mail to %s", kind, to)
    send_mail(subject, body, None, [to])
