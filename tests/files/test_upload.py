"""``POST /files/<name>``: both wire forms, the rules, and bad input, on each storage."""

from __future__ import annotations

import base64
import hashlib
import re
from typing import Any

import pytest
from django.test import override_settings

from backend_kit.files.models import StoredFile
from tests.conftest import ParseClient
from tests.support import kit

from .conftest import Backend, anonymous, sign_up
from .support import upload, upload_json

STORED = re.compile(r"^[0-9a-f]{32}_(.+)$")
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8


def clean_part(name: str) -> str:
    match = STORED.match(name)
    assert match, name
    return match.group(1)


# --- the raw form ---------------------------------------------------------------------


def test_raw_upload_is_stored_whole_and_described(backend: Backend, api: ParseClient) -> None:
    user = sign_up(api)
    r = upload(user, "photo.png", PNG, "image/png")
    assert r.status_code == 201, r.json_body
    name, url = r.json_body["name"], r.json_body["url"]
    assert set(r.json_body) == {"name", "url"}
    assert clean_part(name) == "photo.png"
    assert r["Location"] == url
    assert backend.stored(name) == PNG
    record = StoredFile.objects.get(name=name)
    assert record.size == len(PNG)
    assert record.content_type == "image/png"
    assert record.checksum == "sha256:" + hashlib.sha256(PNG).hexdigest()
    assert record.owner_id and not record.private
    if backend.kind == "local":
        assert url == f"http://testserver/parse/files/test-app/{name}"
    else:
        assert backend.cdn is not None
        assert url == f"{backend.cdn.url}/{name}"
        head = backend.head(name)
        assert head["ContentType"] == "image/png"
        assert head["CacheControl"] == "public, max-age=31536000, immutable"


def test_every_upload_gets_a_new_name(backend: Backend, master: ParseClient) -> None:
    names = {upload(master, "same.txt", b"x", "text/plain").json_body["name"] for _ in range(3)}
    assert len(names) == 3
    assert {clean_part(n) for n in names} == {"same.txt"}


@pytest.mark.parametrize(
    "given,stored",
    [
        ("résumé final.pdf", "resume_final.pdf"),
        ("..hidden.txt", "hidden.txt"),
        ("a b  c.tar.gz", "a_b_c.tar.gz"),
        ("写真.jpg", "file.jpg"),
        ("no-extension", "no-extension.txt"),  # text/plain adds .txt, as Parse Server does
        ("weird.J P G", "weird.JPG"),
    ],
)
def test_names_are_sanitized(local: Backend, master: ParseClient, given: str, stored: str) -> None:
    r = upload(master, given, b"data", "text/plain")
    assert r.status_code == 201, r.json_body
    assert clean_part(r.json_body["name"]) == stored


@pytest.mark.parametrize(
    "path,message",
    [
        ("files/a%2Fb.txt", "Filename must not contain path separators."),
        ("files/dir/a.txt", "Filename must not contain path separators."),
        ("files/a/b/c.txt", "Filename must not contain path separators."),
        ("files/a%5Cb.txt", "Filename must not contain path separators."),
        ("files/a%0Ab.txt", "Filename must not contain control characters."),
        ("files/a%00b.txt", "Filename must not contain control characters."),
        ("files/" + "n" * 129, "Filename too long."),
        ("files", "Filename not provided."),
        ("files/", "Filename not provided."),
    ],
)
def test_bad_names_are_refused_with_122(
    local: Backend, master: ParseClient, path: str, message: str
) -> None:
    r = master.client.generic(
        "POST", "/parse/" + path, b"data", content_type="text/plain", headers=master.headers()
    )
    assert r.status_code == 400
    assert r.json() == {"code": 122, "error": message}
    assert local.everything() == []
    assert not StoredFile.objects.exists()


def test_empty_raw_body_is_refused(backend: Backend, master: ParseClient) -> None:
    r = upload(master, "empty.bin", b"")
    assert r.status_code == 400
    assert r.json_body == {"code": 130, "error": "Invalid file upload."}
    assert backend.everything() == [] and not StoredFile.objects.exists()


def test_declared_size_over_the_limit_is_refused_before_reading(
    backend: Backend, master: ParseClient
) -> None:
    with backend.files(MAX_SIZE=1000):
        r = upload(master, "big.bin", b"x" * 1001)
    assert r.status_code == 413
    assert r.json_body == {"code": 130, "error": "File size exceeds maximum allowed: 1000 bytes."}
    assert backend.everything() == [] and not StoredFile.objects.exists()
    with backend.files(MAX_SIZE=1000):
        assert upload(master, "fits.bin", b"x" * 1000).status_code == 201


def test_large_upload_goes_up_in_parts(s3: Backend, master: ParseClient) -> None:
    """Over PART_SIZE the S3 writer uses a multipart upload; the bytes come back whole."""
    data = bytes(range(256)) * (4096 * 11)  # 11 MiB
    with s3.files(MAX_SIZE=20 * 2**20, PART_SIZE=5 * 2**20):
        r = upload(master, "big.bin", data)
    assert r.status_code == 201, r.json_body
    assert s3.stored(r.json_body["name"]) == data
    assert "-3" in s3.head(r.json_body["name"])["ETag"]  # three parts
    assert [k for k in s3.everything() if k.startswith("multipart:")] == []


def test_raw_metadata_and_tags_headers(backend: Backend, master: ParseClient) -> None:
    r = upload(
        master,
        "m.txt",
        b"m",
        "text/plain",
        headers={"X-Parse-File-Metadata": '{"a": 1}', "X-Parse-File-Tags": '{"t": "x"}'},
    )
    record = StoredFile.objects.get(name=r.json_body["name"])
    assert (record.metadata, record.tags) == ({"a": 1}, {"t": "x"})
    r = upload(master, "m.txt", b"m", headers={"X-Parse-File-Metadata": "[1]"})
    assert r.json_body == {"code": 107, "error": "Invalid JSON in X-Parse-File-Metadata header."}


# --- the JS SDK's JSON form ------------------------------------------------------------


def test_json_form_with_file_data(backend: Backend, api: ParseClient) -> None:
    user = sign_up(api)
    r = upload_json(
        api,
        "report",
        b"%PDF-1.4 body",
        content_type="application/pdf",
        metadata={"pages": 2},
        tags={"team": "a"},
        session_token=user.session_token,
    )
    assert r.status_code == 201, r.json_body
    name = r.json_body["name"]
    assert clean_part(name) == "report.pdf"
    assert backend.stored(name) == b"%PDF-1.4 body"
    record = StoredFile.objects.get(name=name)
    assert (record.content_type, record.metadata, record.tags) == (
        "application/pdf",
        {"pages": 2},
        {"team": "a"},
    )


def test_json_form_accepts_a_data_url(local: Backend, master: ParseClient) -> None:
    text = "data:image/png;base64," + base64.b64encode(PNG).decode()
    r = upload_json(master, "pic", text, master_key="test-master-key")
    assert r.status_code == 201, r.json_body
    assert clean_part(r.json_body["name"]) == "pic.png"
    assert local.stored(r.json_body["name"]) == PNG


@pytest.mark.parametrize("bad", ["not base64 at all!", "QUJD$", "A", "====", "QUJ\u00e9"])
def test_base64_that_does_not_decode(backend: Backend, master: ParseClient, bad: str) -> None:
    r = upload_json(master, "x.bin", bad, master_key="test-master-key")
    assert r.status_code == 400
    assert r.json_body["code"] == 130
    assert r.json_body["error"] in ("Invalid base64 data.", "Invalid file upload.")
    assert backend.everything() == [] and not StoredFile.objects.exists()


def test_empty_base64_is_refused(local: Backend, master: ParseClient) -> None:
    r = upload_json(master, "x.bin", "", master_key="test-master-key")
    assert r.json_body == {"code": 130, "error": "Invalid file upload."}


def test_json_form_over_the_limit(local: Backend, master: ParseClient) -> None:
    with local.files(MAX_SIZE=100):
        r = upload_json(master, "x.bin", b"y" * 101, master_key="test-master-key")
    assert r.status_code == 413 and r.json_body["code"] == 130
    assert local.everything() == []


def test_json_form_without_keys_is_unauthorized(local: Backend, api: ParseClient) -> None:
    r = api.client.generic(
        "POST", "/parse/files/x.bin", b"\x00\x01binary", content_type="text/plain"
    )
    assert r.status_code == 403 and r.json() == {"error": "unauthorized"}


# --- who may upload (Parse Server 9's defaults) ------------------------------------------


def test_public_upload_is_refused_by_default(backend: Backend, api: ParseClient) -> None:
    r = upload(api, "a.txt", b"a", "text/plain")
    assert r.json_body == {"code": 130, "error": "File upload by public is disabled."}
    r = upload_json(api, "a.txt", b"a")
    assert r.json_body == {"code": 130, "error": "File upload by public is disabled."}
    with backend.files(ENABLE_FOR_PUBLIC=True):
        assert upload(api, "a.txt", b"a", "text/plain").status_code == 201


def test_anonymous_upload_is_refused_by_default(local: Backend, api: ParseClient) -> None:
    anon = anonymous(api)
    r = upload(anon, "a.txt", b"a", "text/plain")
    assert r.json_body == {"code": 130, "error": "File upload by anonymous user is disabled."}
    with local.files(ENABLE_FOR_ANONYMOUS=True):
        assert upload(anon, "a.txt", b"a", "text/plain").status_code == 201


def test_authenticated_upload_can_be_switched_off(local: Backend, api: ParseClient) -> None:
    user = sign_up(api)
    with local.files(ENABLE_FOR_AUTHENTICATED=False):
        r = upload(user, "a.txt", b"a", "text/plain")
    assert r.json_body == {"code": 130, "error": "File upload by authenticated user is disabled."}


def test_upload_roles(
    local: Backend, api: ParseClient, master: ParseClient, django_capture_on_commit_callbacks: Any
) -> None:
    user = sign_up(api)
    me = user.get("users/me").json_body["objectId"]
    with local.files(UPLOAD_ROLES=["Uploaders"]):
        r = upload(user, "a.txt", b"a", "text/plain")
        assert r.json_body == {
            "code": 130,
            "error": "File upload needs one of the roles Uploaders.",
        }
        role = {
            "name": "Uploaders",
            "ACL": {"*": {"read": True}},
            "users": {
                "__op": "AddRelation",
                "objects": [{"__type": "Pointer", "className": "_User", "objectId": me}],
            },
        }
        # the role cache is dropped when the role's transaction commits
        with django_capture_on_commit_callbacks(execute=True):
            assert master.post("roles", role).status_code == 201
        r = upload(user, "a.txt", b"a", "text/plain")
        assert r.status_code == 201, r.json_body
        assert upload(master, "a.txt", b"a", "text/plain").status_code == 201


def test_read_only_master_key_cannot_upload(local: Backend, api: ParseClient) -> None:
    with override_settings(BACKEND_KIT=kit(READ_ONLY_MASTER_KEY="ro-key")):
        r = upload(api, "a.txt", b"a", "text/plain", headers={"X-Parse-Master-Key": "ro-key"})
    assert r.status_code == 400 and r.json_body["code"] == 119


@pytest.mark.parametrize(
    "name,content_type,refused",
    [
        ("page.html", "text/html", "html"),
        ("page.htm", "text/plain", "htm"),
        ("icon.svg", "image/svg+xml", "svg"),
        ("data.xml", "application/xml", "xml"),
        ("PAGE.XHTML", "text/plain", "XHTML"),
        ("noext", "text/html", "html"),
        ("noext", "image/svg+xml", "svg+xml"),
        ("noext", "svg", "svg"),
    ],
)
def test_active_content_is_refused_for_non_master(
    local: Backend,
    api: ParseClient,
    master: ParseClient,
    name: str,
    content_type: str,
    refused: str,
) -> None:
    user = sign_up(api)
    r = upload(user, name, b"<svg/>", content_type)
    assert r.json_body == {"code": 130, "error": f"File upload of extension {refused} is disabled."}
    assert local.everything() == []
    assert upload(master, name, b"<svg/>", content_type).status_code == 201


def test_malformed_content_type_without_known_extension(local: Backend, api: ParseClient) -> None:
    user = sign_up(api)
    r = upload(user, "noext", b"x", "image//png")
    assert r.json_body == {"code": 130, "error": "Invalid Content-Type."}


def test_extension_rule_can_allow_everything(local: Backend, api: ParseClient) -> None:
    user = sign_up(api)
    with local.files(EXTENSIONS=["*"]):
        assert upload(user, "page.html", b"<p>", "text/html").status_code == 201


def test_allowed_content_types(backend: Backend, api: ParseClient, master: ParseClient) -> None:
    user = sign_up(api)
    with backend.files(ALLOWED_CONTENT_TYPES=["image/*", "application/pdf"]):
        r = upload(user, "notes.txt", b"x", "text/plain")
        assert r.json_body == {
            "code": 130,
            "error": "File upload of content type text/plain is not allowed.",
        }
        assert upload(user, "a.png", PNG, "image/png").status_code == 201
        assert upload(user, "a.pdf", b"%PDF", "application/pdf").status_code == 201
        # the master key is not bound by the upload rules
        assert upload(master, "notes.txt", b"x", "text/plain").status_code == 201
    assert backend.everything() and len(backend.everything()) == 3


def test_directory_option(local: Backend, api: ParseClient, master: ParseClient) -> None:
    user = sign_up(api)
    r = upload(user, "a.txt", b"a", "text/plain", headers={"X-Parse-File-Directory": "x"})
    assert r.json_body == {"code": 119, "error": "Directory can only be set using the Master Key."}
    r = upload(master, "a.txt", b"a", "text/plain", headers={"X-Parse-File-Directory": "x"})
    assert r.json_body == {"code": 130, "error": "File directories are not supported."}


def test_other_methods(local: Backend, master: ParseClient) -> None:
    r = master.put("files/a.txt", {"x": 1})
    assert r.status_code == 405 and r.json_body["code"] == 119


# --- triggers --------------------------------------------------------------------------


@pytest.fixture
def cloud_registry() -> Any:
    from backend_kit.cloud.registry import registry

    snapshot = registry.snapshot()
    yield registry
    registry.restore(snapshot)


def test_before_save_file_can_change_and_refuse(
    backend: Backend, master: ParseClient, cloud_registry: Any
) -> None:
    from backend_kit import cloud

    seen: list[dict[str, Any]] = []

    @cloud.before_save_file()
    def before(request: Any) -> None:
        file = request.extra["file"]
        if file["name"].startswith("blocked"):
            raise cloud.ParseError(142, "no blocked files")
        file["metadata"]["stamped"] = True
        file["name"] = "renamed-" + file["name"]

    @cloud.after_save_file()
    def after(request: Any) -> None:
        seen.append(dict(request.extra["file"]))

    r = upload(master, "a.txt", b"abc", "text/plain")
    assert r.status_code == 201
    assert clean_part(r.json_body["name"]) == "renamed-a.txt"
    assert StoredFile.objects.get(name=r.json_body["name"]).metadata == {"stamped": True}
    assert seen and seen[0]["name"] == r.json_body["name"] and seen[0]["size"] == 3
    assert seen[0]["url"] == r.json_body["url"]
    r = upload(master, "blocked.txt", b"abc", "text/plain")
    assert r.json_body == {"code": 142, "error": "no blocked files"}
    assert len(backend.everything()) == 1
