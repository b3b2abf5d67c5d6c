"""Conformance modes record account mails instead of sending them.

Each mail is stored as a ``ConformanceMail`` object (master key only), so any
worker process can read it back (the ``mailbox`` cloud function).
"""

from __future__ import annotations

from backend_kit.accounts.adapter import AccountAdapter
from backend_kit.conf import bk_settings
from backend_kit.context import RequestContext
from backend_kit.objects import writes

MAIL_CLASS = "ConformanceMail"


class RecordingAdapter(AccountAdapter):
    def send_mail(
        self, kind: str, to: str, subject: str, body: str, *, link: str | None = None
    ) -> None:
        record_mail(kind, to, subject, body, link)


def record_mail(kind: str, to: str, subject: str, body: str, link: str | None) -> None:
    writes.create(
        RequestContext.master(app_id=bk_settings.APP_ID),
        MAIL_CLASS,
        {"kind": kind, "to": to, "subject": subject, "body": body, "link": link, "ACL": {}},
    )
