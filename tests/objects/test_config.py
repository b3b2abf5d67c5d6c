"""/config: Parse Config parameters."""

from __future__ import annotations

import pytest

from tests.conftest import ParseClient
from tests.support import tunnel

pytestmark = pytest.mark.django_db


def test_empty_config(api: ParseClient, master: ParseClient) -> None:
    assert api.get("config").json_body == {"params": {}}
    assert master.get("config").json_body == {"params": {}}


def test_write_and_read(api: ParseClient, master: ParseClient) -> None:
    r = master.put(
        "config",
        {
            "params": {
                "motd": "hello",
                "limits": {"max": 3, "tags": ["a"]},
                "launch": {"__type": "Date", "iso": "2026-05-01T10:00:00Z"},
                "logo": {"__type": "File", "name": "abc_logo.png"},
                "ratio": 0.5,
                "enabled": True,
            }
        },
    )
    assert r.status_code == 200 and r.json_body == {"result": True}
    params = api.get("config").json_body["params"]
    assert params["motd"] == "hello"
    assert params["limits"] == {"max": 3, "tags": ["a"]}
    assert params["launch"] == {"__type": "Date", "iso": "2026-05-01T10:00:00.000Z"}
    assert params["logo"]["name"] == "abc_logo.png" and params["logo"]["url"].endswith(
        "abc_logo.png"
    )
    assert (params["ratio"], params["enabled"]) == (0.5, True)
    # the JS SDK reads the config through the envelope too
    assert tunnel("config", {}, method="GET").json_body["params"]["motd"] == "hello"


def test_update_keeps_other_params_and_deletes(master: ParseClient) -> None:
    master.put("config", {"params": {"a": 1, "b": 2}})
    master.put("config", {"params": {"b": 3, "a": {"__op": "Delete"}, "c": None}})
    params = master.get("config").json_body["params"]
    assert params == {"b": 3, "c": None}


def test_master_key_only_params(api: ParseClient, master: ParseClient) -> None:
    master.put(
        "config",
        {"params": {"public": 1, "secret": "s3cret"}, "masterKeyOnly": {"secret": True}},
    )
    assert api.get("config").json_body == {
        "params": {"public": 1},
        "masterKeyOnly": {"public": False},
    }
    assert master.get("config").json_body == {
        "params": {"public": 1, "secret": "s3cret"},
        "masterKeyOnly": {"public": False, "secret": True},
    }
    # writing a parameter again without the flag makes it public again (Parse)
    master.put("config", {"params": {"secret": "new"}})
    assert api.get("config").json_body["params"]["secret"] == "new"
    # a flag for a parameter not written is ignored
    master.put("config", {"params": {"x": 1}, "masterKeyOnly": {"public": True}})
    assert api.get("config").json_body["params"]["public"] == 1


def test_only_the_master_key_writes(api: ParseClient, master: ParseClient) -> None:
    r = api.put("config", {"params": {"a": 1}})
    assert r.status_code == 403
    assert r.json_body == {"error": "Permission denied"}
    assert master.get("config").json_body == {"params": {}}


@pytest.mark.parametrize(
    "body,code",
    [
        ({"params": [1]}, 107),
        ({"params": {"a": 1}, "masterKeyOnly": {"a": "yes"}}, 107),
        ({"params": {"a": 1}, "masterKeyOnly": 5}, 107),
        ({"params": {"a": {"__type": "Date", "iso": "nope"}}}, 111),
        ({"params": {"a": {"$bad": 1}}}, 121),
        ({"params": {"a": "\u0000"}}, 107),
    ],
)
def test_bad_config_writes_change_nothing(body: dict, code: int, master: ParseClient) -> None:
    master.put("config", {"params": {"keep": 1}})
    r = master.put(
        "config",
        {**body, "params": {"keep": 2, **body["params"]}}
        if isinstance(body["params"], dict)
        else body,
    )
    assert r.status_code == 400, r.json_body
    assert r.json_body["code"] == code
    assert master.get("config").json_body["params"] == {"keep": 1}
