from django.test import override_settings

from tests.conftest import ParseClient


def _kit(**extra):
    from django.conf import settings

    return {**settings.BACKEND_KIT, **extra}


@override_settings(BACKEND_KIT=_kit(IDEMPOTENCY_PATHS=["classes/Order"], IDEMPOTENCY_TTL=60))
def test_repeated_request_id_is_refused(master: ParseClient) -> None:
    first = master.post("classes/Order", {"n": 1}, headers={"X-Parse-Request-Id": "abc"})
    assert first.status_code == 201
    again = master.post("classes/Order", {"n": 1}, headers={"X-Parse-Request-Id": "abc"})
    assert again.status_code == 400
    assert again.json_body == {"code": 159, "error": "Duplicate request"}
    other = master.post("classes/Order", {"n": 2}, headers={"X-Parse-Request-Id": "def"})
    assert other.status_code == 201
    # only one object per request id was written
    assert master.get("classes/Order", count=1, limit=0).json_body["count"] == 2


@override_settings(BACKEND_KIT=_kit(IDEMPOTENCY_PATHS=["classes/Order"], IDEMPOTENCY_TTL=60))
def test_other_paths_are_not_guarded(master: ParseClient) -> None:
    for _ in range(2):
        assert (
            master.post(
                "classes/Other", {"n": 1}, headers={"X-Parse-Request-Id": "same"}
            ).status_code
            == 201
        )


@override_settings(BACKEND_KIT=_kit(IDEMPOTENCY_PATHS=["classes/Order"], IDEMPOTENCY_TTL=0))
def test_expired_record_is_replaced(master: ParseClient) -> None:
    assert (
        master.post("classes/Order", {"n": 1}, headers={"X-Parse-Request-Id": "x"}).status_code
        == 201
    )
    assert (
        master.post("classes/Order", {"n": 1}, headers={"X-Parse-Request-Id": "x"}).status_code
        == 201
    )
