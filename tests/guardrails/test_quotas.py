"""Usage caps: daily and monthly flows, exact levels, warnings, and where each is enforced."""

from __future__ import annotations

import asyncio
import io
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from backend_kit.cloud import job
from backend_kit.context import RequestContext
from backend_kit.errors import ParseError
from backend_kit.files.models import StoredFile
from backend_kit.guardrails import asgi, levels, quotas, signals
from backend_kit.guardrails.models import QuotaNotice
from backend_kit.objects import writes
from tests.conftest import ParseClient
from tests.files.support import get_url, upload

from .conftest import sign_up


@pytest.fixture
def clock(monkeypatch: Any) -> list[datetime]:
    now = [datetime(2026, 3, 14, 9, 0, tzinfo=UTC)]
    monkeypatch.setattr(quotas, "now", lambda: now[0])
    return now


def assert_capped(response: Any, status: int = 429) -> None:
    assert response.status_code == status, response.json_body
    assert response.json_body["code"] == 140
    assert response.json_body["error"].startswith("Quota exceeded:")


def test_a_daily_cap_stops_writes_at_the_cap_and_resumes_the_next_day(
    classes: None, guardrails: Any, clock: list[datetime], master: Any
) -> None:
    guardrails(QUOTAS={"requests": {"day": 5}})
    client = ParseClient()
    answers = [client.post("classes/Item", {"n": i}) for i in range(8)]
    assert [r.status_code for r in answers] == [201] * 5 + [429] * 3
    assert_capped(answers[5])
    assert answers[5]["Retry-After"] == str(15 * 3600)  # until midnight UTC
    assert master.get("classes/Item", count=1, limit=0).json_body["count"] == 5
    clock[0] += timedelta(days=1)
    assert client.post("classes/Item", {"n": 99}).status_code == 201


def test_a_monthly_cap(classes: None, guardrails: Any, clock: list[datetime]) -> None:
    guardrails(QUOTAS={"requests": {"day": 100, "month": 3}})
    client = ParseClient()
    assert [client.get("classes/Item").status_code for _ in range(4)] == [200, 200, 200, 429]
    clock[0] += timedelta(days=1)  # a new day, the same month
    refused = client.get("classes/Item")
    assert_capped(refused)
    assert int(refused["Retry-After"]) == int(
        (datetime(2026, 4, 1, tzinfo=UTC) - clock[0]).total_seconds()
    )
    clock[0] = datetime(2026, 4, 1, tzinfo=UTC)
    assert client.get("classes/Item").status_code == 200


def test_warning_and_cap_notices_go_out_once(
    classes: None, guardrails: Any, clock: list[datetime], settings: Any
) -> None:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    guardrails(
        QUOTAS={"requests": {"day": 4}}, QUOTA_WARNING_AT=0.5, QUOTA_EMAILS=["ops@example.com"]
    )
    heard: list[tuple[str, dict[str, Any]]] = []

    def warned(sender: Any, **kw: Any) -> None:
        heard.append(("warning", {k: kw[k] for k in ("metric", "period", "used", "limit")}))

    def reached(sender: Any, **kw: Any) -> None:
        heard.append(("cap", {k: kw[k] for k in ("metric", "period", "used", "limit")}))

    signals.quota_warning.connect(warned)
    signals.quota_reached.connect(reached)
    try:
        client = ParseClient()
        for _ in range(7):
            client.get("classes/Item")
    finally:
        signals.quota_warning.disconnect(warned)
        signals.quota_reached.disconnect(reached)
    day = {"metric": "requests", "period": "day"}
    assert heard == [
        ("warning", {**day, "used": 2, "limit": 4}),
        ("cap", {**day, "used": 4, "limit": 4}),
    ]
    notices = list(
        QuotaNotice.objects.order_by("id").values_list("metric", "period", "period_key", "kind")
    )
    assert notices == [
        ("requests", "day", "20260314", "warning"),
        ("requests", "day", "20260314", "cap"),
    ]
    assert [m.to for m in mail.outbox] == [["ops@example.com"], ["ops@example.com"]]
    assert "reached its cap" in mail.outbox[1].subject


def test_a_batch_counts_as_its_sub_requests(
    classes: None, guardrails: Any, clock: list[datetime]
) -> None:
    guardrails(QUOTAS={"requests": {"day": 3}})
    client = ParseClient()

    def batch(n: int) -> Any:
        return client.post(
            "batch",
            {
                "requests": [
                    {"method": "POST", "path": "/parse/classes/Item", "body": {"n": i}}
                    for i in range(n)
                ]
            },
        )

    assert batch(2).status_code == 200
    assert_capped(batch(2))  # would be four
    assert (
        client.post("classes/Item", {"n": 3}).status_code == 201
    )  # the refused batch was not counted
    assert_capped(client.post("classes/Item", {"n": 4}))


def test_the_master_key_is_exempt_unless_configured(
    classes: None, guardrails: Any, clock: list[datetime]
) -> None:
    guardrails(QUOTAS={"requests": {"day": 1}})
    master = ParseClient(master=True)
    assert [master.get("classes/Item").status_code for _ in range(3)] == [200, 200, 200]
    guardrails(QUOTAS={"requests": {"day": 1}}, QUOTAS_APPLY_TO_MASTER=True)
    assert_capped(master.get("classes/Item"))  # its requests were counted all along


# --- levels ------------------------------------------------------------------------------


def test_levels_follow_every_way_rows_come_and_go(classes: None, master: Any) -> None:
    base = levels.recount()["objects_stored"]
    ids = [master.post("classes/Item", {"n": i}).json_body["objectId"] for i in range(4)]
    assert levels.read("objects_stored") == base + 4
    assert master.delete(f"classes/Item/{ids[0]}").status_code == 200
    assert levels.read("objects_stored") == base + 3
    with connection.cursor() as cursor:  # below the API
        cursor.execute("DELETE FROM backend_kit_objects_parseobject WHERE object_id = %s", [ids[1]])
    assert levels.read("objects_stored") == base + 2
    assert master.delete("purge/Item").status_code == 200
    assert levels.read("objects_stored") == base
    out = io.StringIO()
    call_command("bk_usage", "--recount", stdout=out)
    assert f"objects_stored: {base}" in out.getvalue()


def test_an_objects_cap_stops_creates_exactly_and_frees_up_with_deletes(
    classes: None, guardrails: Any, master: Any
) -> None:
    level = levels.recount()["objects_stored"]
    guardrails(QUOTAS={"objects_stored": {"max": level + 3}})
    client = ParseClient()
    made = [client.post("classes/Item", {"n": i}) for i in range(5)]
    assert [r.status_code for r in made] == [201, 201, 201, 403, 403]
    assert_capped(made[3], status=403)
    assert levels.read("objects_stored") == level + 3
    assert master.get("classes/Item", count=1, limit=0).json_body["count"] == 3
    # updates still work at the cap; a delete makes room for one more
    first = made[0].json_body["objectId"]
    assert client.put(f"classes/Item/{first}", {"n": 10}).status_code == 200
    assert master.delete(f"classes/Item/{first}").status_code == 200
    assert client.post("classes/Item", {"n": 5}).status_code == 201
    assert_capped(client.post("classes/Item", {"n": 6}), status=403)
    # the master key is exempt by default (to clean up)
    assert master.post("classes/Item", {"n": 7}).status_code == 201


@pytest.mark.postgres
def test_an_objects_cap_holds_under_concurrent_creates(
    transactional_db: Any, guardrails: Any
) -> None:
    writes.create(RequestContext.master(), "Item", {"n": 0})  # the class exists
    level = levels.recount()["objects_stored"]
    guardrails(QUOTAS={"objects_stored": {"max": level + 25}})
    ctx = RequestContext(app_id="test-app")

    def create(i: int) -> bool:
        from django.db import connections

        try:
            writes.create(ctx, "Item", {"n": i})
            return True
        except ParseError as exc:
            assert exc.code == 140
            return False
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=8) as pool:
        accepted = sum(pool.map(create, range(60)))
    assert accepted == 25
    assert levels.read("objects_stored") == level + 25
    assert levels.recount()["objects_stored"] == level + 25


def test_a_file_bytes_cap_refuses_the_upload_that_would_pass_it(
    classes: None, media: Any, guardrails: Any
) -> None:
    levels.recount()
    base = levels.read("file_bytes_stored")
    guardrails(QUOTAS={"file_bytes_stored": {"max": base + 10}})
    _, ann = sign_up("ann")
    assert upload(ann, "a.txt", b"123456", "text/plain").status_code == 201
    refused = upload(ann, "b.txt", b"abcdef", "text/plain")
    assert_capped(refused, status=403)
    assert StoredFile.objects.count() == 1
    assert levels.read("file_bytes_stored") == base + 6
    assert upload(ann, "c.txt", b"abcd", "text/plain").status_code == 201


def test_file_bytes_served_are_counted_and_capped(
    classes: None, media: Any, guardrails: Any, clock: list[datetime]
) -> None:
    guardrails(QUOTAS={"file_bytes_served": {"day": 8}})
    _, ann = sign_up("ann")
    url = upload(ann, "a.txt", b"hello", "text/plain").json_body["url"]
    reader = ParseClient()
    assert get_url(reader, url).status_code == 200
    assert get_url(reader, url).status_code == 200  # 5 of 8 used before it: let through
    assert quotas.usage_of("file_bytes_served")[0] == 10
    refused = get_url(reader, url)
    assert refused.status_code == 429 and refused.json_body["code"] == 140


def test_job_runs_are_capped_whoever_starts_them(
    classes: None, guardrails: Any, clock: list[datetime], cloud_code: Any, master: Any
) -> None:
    @job("nightly")
    def nightly(request: Any) -> str:
        return "done"

    guardrails(QUOTAS={"job_runs": {"day": 2}})
    assert [master.post("jobs/nightly").status_code for _ in range(2)] == [200, 200]
    assert_capped(master.post("jobs/nightly"))
    assert quotas.usage_of("job_runs")[0] == 2


def test_pushes_are_refused_once_the_sent_count_is_at_its_cap(
    classes: None, guardrails: Any, clock: list[datetime], master: Any
) -> None:
    guardrails(QUOTAS={"pushes_sent": {"day": 100}})
    quotas.consume("pushes_sent", 100, enforce=False)  # what the workers delivered today
    assert_capped(master.post("push", {"channels": ["news"], "data": {"alert": "hi"}}))


def test_realtime_connections_are_capped(
    transactional_db: Any, guardrails: Any, clock: list[datetime]
) -> None:
    guardrails(QUOTAS={"realtime_connections": {"day": 1}})
    served: list[str] = []

    async def live_query(scope: Any, receive: Any, send: Any) -> None:
        await receive()
        await send({"type": "websocket.accept"})
        await send({"type": "websocket.send", "text": '{"op":"connected","clientId":"x"}'})
        served.append(scope["path"])

    async def connect() -> list[dict[str, Any]]:
        sent: list[dict[str, Any]] = []

        async def receive() -> dict[str, Any]:
            return {"type": "websocket.connect"}

        async def send(message: dict[str, Any]) -> None:
            sent.append(message)

        scope = {"type": "websocket", "path": "/parse", "client": ("10.0.0.1", 5000)}
        await asgi.wrap(live_query)(scope, receive, send)
        return sent

    first = asyncio.run(connect())
    second = asyncio.run(connect())
    assert [m["type"] for m in first] == ["websocket.accept", "websocket.send"]
    assert second == [{"type": "websocket.close", "code": 1013}]
    assert served == ["/parse"]


def test_usage_in_the_admin_and_the_command(
    classes: None, guardrails: Any, clock: list[datetime], admin_client: Any
) -> None:
    guardrails(QUOTAS={"requests": {"day": 10, "month": 100}, "objects_stored": {"max": 1000}})
    client = ParseClient()
    for _ in range(9):
        client.get("classes/Item")
    page = admin_client.get(reverse("admin:backend_kit_guardrails_usagereport_changelist"))
    assert page.status_code == 200
    rows = {row["metric"]: row for row in page.context["rows"]}
    assert rows["requests"]["state"] == "warning"
    assert rows["requests"]["cells"][0] == {"period": "day", "used": 9, "cap": 10, "share": "90%"}
    assert rows["objects_stored"]["cells"][0]["cap"] == 1000
    out = io.StringIO()
    call_command("bk_usage", stdout=out)
    assert "requests" in out.getvalue() and "day 9/10" in out.getvalue()


def test_usage_without_a_cap_is_gathered_and_added_in_one_round_trip(
    classes: None, guardrails: Any, clock: list[datetime]
) -> None:
    from backend_kit.guardrails import counters

    guardrails(USAGE_FLUSH_SECONDS=60)  # the flusher thread will not run during the test
    key = quotas.counter_key("requests", quotas.periods()[0])
    client = ParseClient()
    for _ in range(3):
        assert client.get("classes/Item").status_code == 200
    assert counters.read([key]) == {}  # nothing in the shared cache yet
    assert counters.pending(key) == 3
    assert quotas.usage_of("requests")[0] == 3  # this process sees its own counts
    counters.flush()
    assert counters.read([key]) == {key: 3}
    assert counters.pending(key) == 0
    assert quotas.usage_of("requests") == [3, 3]


def test_usage_without_a_cap_counted_at_once_when_the_flush_interval_is_zero(
    classes: None, guardrails: Any, clock: list[datetime]
) -> None:
    from backend_kit.guardrails import counters

    guardrails(USAGE_FLUSH_SECONDS=0)
    key = quotas.counter_key("requests", quotas.periods()[0])
    ParseClient().get("classes/Item")
    assert counters.read([key]) == {key: 1} and counters.pending(key) == 0


def test_an_objects_cap_holds_for_a_batch_of_creates(
    classes: None, guardrails: Any, master: Any
) -> None:
    # a run of creates goes in as one group; the cap refusing one of them sends the run
    # one by one, so exactly the creates past the cap are refused
    master.post("classes/Item", {"n": 0})
    level = levels.recount()["objects_stored"]
    guardrails(QUOTAS={"objects_stored": {"max": level + 3}})
    requests = [
        {"method": "POST", "path": "/parse/classes/Item", "body": {"n": i}} for i in range(5)
    ]
    r = ParseClient().post("batch", {"requests": requests})
    assert r.status_code == 200, r.json_body
    assert ["success" in x for x in r.json_body] == [True, True, True, False, False]
    assert r.json_body[3]["error"]["code"] == 140
    assert levels.read("objects_stored") == level + 3
