"""Links handed out without SERVER_URL are absolute and include the mount."""

from django.test import override_settings

from tests.conftest import ParseClient


def _kit(**extra):
    from django.conf import settings

    kit = {**settings.BACKEND_KIT, **extra}
    kit.pop("SERVER_URL", None)
    return kit


@override_settings(BACKEND_KIT=_kit())
def test_file_urls_use_the_request_host_and_mount(master: ParseClient) -> None:
    created = master.post("classes/Doc", {"f": {"__type": "File", "name": "abc_x.txt"}})
    assert created.status_code == 201
    got = master.get(f"classes/Doc/{created.json_body['objectId']}").json_body
    assert got["f"]["url"] == "http://testserver/parse/files/test-app/abc_x.txt"
