"""Reading files back: app-served local files, CDN and signed URLs, objects, delete, metadata."""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from backend_kit.files import links
from backend_kit.files.models import StoredFile
from backend_kit.files.storage import get_storage
from tests.conftest import ParseClient

from .conftest import Backend
from .support import get_url, upload

DATA = bytes(range(256)) * 40  # 10240 bytes


def http_get(url: str, headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, dict(exc.headers), exc.read()


def stored(master: ParseClient, name: str = "data.bin", private: bool = False, **kw: Any) -> Any:
    headers = {"X-Parse-File-Metadata": '{"private": true}'} if private else None
    r = upload(
        master, name, kw.get("data", DATA), kw.get("content_type", "application/x-thing"), headers
    )
    assert r.status_code == 201, r.json_body
    return r.json_body


# --- local disk: served by the app -------------------------------------------------------


def test_local_file_is_served_with_type_and_cache_headers(
    local: Backend, master: ParseClient
) -> None:
    saved = stored(master, "pic.png", content_type="image/png")
    r = get_url(master, saved["url"])
    assert r.status_code == 200 and r.body_bytes == DATA
    assert r["Content-Type"] == "image/png"
    assert r["Content-Length"] == str(len(DATA))
    assert r["Cache-Control"] == "public, max-age=31536000, immutable"
    assert r["Accept-Ranges"] == "bytes"
    assert r["X-Content-Type-Options"] == "nosniff"
    assert r["ETag"].startswith('"') and r["Last-Modified"]
    again = get_url(master, saved["url"], {"If-None-Match": r["ETag"]})
    assert again.status_code == 304 and again.body_bytes == b""


@pytest.mark.parametrize(
    "header,status,first,last",
    [
        ("bytes=0-9", 206, 0, 9),
        ("bytes=100-", 206, 100, len(DATA) - 1),
        ("bytes=-16", 206, len(DATA) - 16, len(DATA) - 1),
        ("bytes=10-99999", 206, 10, len(DATA) - 1),
        ("bytes=5-1", 200, 0, len(DATA) - 1),  # malformed: ignored
        ("bytes=0-1,5-6", 200, 0, len(DATA) - 1),  # several ranges: the whole file
    ],
)
def test_local_ranges(
    local: Backend, master: ParseClient, header: str, status: int, first: int, last: int
) -> None:
    saved = stored(master)
    r = get_url(master, saved["url"], {"Range": header})
    assert r.status_code == status
    assert r.body_bytes == DATA[first : last + 1]
    assert r["Content-Length"] == str(last - first + 1)
    if status == 206:
        assert r["Content-Range"] == f"bytes {first}-{last}/{len(DATA)}"


def test_local_unsatisfiable_range_and_if_range(local: Backend, master: ParseClient) -> None:
    saved = stored(master)
    r = get_url(master, saved["url"], {"Range": f"bytes={len(DATA)}-"})
    assert r.status_code == 416 and r["Content-Range"] == f"bytes */{len(DATA)}"
    etag = get_url(master, saved["url"])["ETag"]
    assert (
        get_url(master, saved["url"], {"Range": "bytes=0-0", "If-Range": etag}).status_code == 206
    )
    r = get_url(master, saved["url"], {"Range": "bytes=0-0", "If-Range": '"stale"'})
    assert r.status_code == 200 and r.body_bytes == DATA


def test_head_request(local: Backend, master: ParseClient) -> None:
    saved = stored(master)
    r = master.client.head(saved["url"].removeprefix("http://testserver"))
    assert r.status_code == 200 and r["Content-Length"] == str(len(DATA)) and r.content == b""


def test_unknown_file_and_wrong_app(local: Backend, master: ParseClient) -> None:
    r = master.client.get("/parse/files/test-app/0123_missing.txt")
    assert r.status_code == 404 and r.content == b"File not found."
    saved = stored(master)
    r = master.client.get(f"/parse/files/other-app/{saved['name']}")
    assert r.status_code == 403 and r.json() == {"error": "Invalid application ID."}
    assert master.client.get("/parse/files/test-app/.partial").status_code == 404


# --- private files: signed, expiring URLs --------------------------------------------------


def test_private_local_file_needs_its_signature(local: Backend, master: ParseClient) -> None:
    saved = stored(master, private=True)
    url = saved["url"]
    query = parse_qs(urlsplit(url).query)
    assert set(query) == {"expires", "signature"}
    assert 3500 < int(query["expires"][0]) - time.time() <= 3600
    r = get_url(master, url)
    assert r.status_code == 200 and r.body_bytes == DATA
    assert r["Cache-Control"] == "private, max-age=3600"
    bare = url.split("?")[0]
    r = get_url(ParseClient(), bare)
    assert r.status_code == 403 and r.json_body["code"] == 119
    tampered = url.replace("signature=", "signature=0")
    assert get_url(ParseClient(), tampered).status_code == 403
    expired = links.private_url(saved["name"], get_storage(), ttl=60, now=time.time() - 120)
    r = get_url(ParseClient(), expired)
    assert r.status_code == 403
    assert r.json_body == {"code": 119, "error": "The signed URL has expired."}
    # the master key reads it without a signature
    assert get_url(master, bare, {"X-Parse-Master-Key": "test-master-key"}).status_code == 200


def test_private_s3_file_gets_a_cloudfront_signed_url(s3: Backend, master: ParseClient) -> None:
    assert s3.cdn is not None
    saved = stored(master, private=True)
    url = saved["url"]
    assert url.startswith(f"{s3.cdn.url}/{saved['name']}?")
    query = parse_qs(urlsplit(url).query)
    assert query["Key-Pair-Id"] == ["KTESTCLOUDFRONT"] and query["Signature"]
    assert 3500 < int(query["Expires"][0]) - time.time() <= 3600
    status, headers, body = http_get(url)
    assert status == 200 and body == DATA
    assert s3.head(saved["name"])["CacheControl"] == "private, max-age=3600"
    assert http_get(url.split("?")[0])[0] == 403  # the CDN serves it signed only
    assert http_get(url.replace("Expires=", "Expires=1"))[0] == 403  # signature no longer fits
    expired = links.private_url(saved["name"], get_storage(), ttl=60, now=time.time() - 120)
    status, _, body = http_get(expired)
    assert (status, body) == (403, b"expired")


def test_private_s3_file_without_cdn_gets_a_presigned_url(s3: Backend, master: ParseClient) -> None:
    with s3.files(CDN_URL=None, CLOUDFRONT_KEY_ID=None, CLOUDFRONT_KEY=None):
        saved = stored(master, private=True)
        url = saved["url"]
        public = stored(master)["url"]
    assert s3.moto is not None
    assert url.startswith(f"{s3.moto.url}/{s3.bucket}/{saved['name']}?")
    query = parse_qs(urlsplit(url).query)
    assert query["X-Amz-Expires"] == ["3600"] and query["X-Amz-Signature"]
    assert query["X-Amz-Algorithm"] == ["AWS4-HMAC-SHA256"]
    assert http_get(url)[2] == DATA
    # a public file without a CDN: a plain, unsigned bucket URL, readable once the
    # bucket lets the public read (as it must for public files served straight from S3)
    assert "?" not in public and public.startswith(f"{s3.moto.url}/{s3.bucket}/")
    assert http_get(public)[0] == 403
    policy = {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": "*",
                "Action": "s3:GetObject",
                "Resource": f"arn:aws:s3:::{s3.bucket}/*",
            }
        ],
    }
    s3.moto.client().put_bucket_policy(Bucket=s3.bucket, Policy=json.dumps(policy))
    assert http_get(public)[2] == DATA


def test_clients_may_be_denied_the_choice(local: Backend, master: ParseClient, api: Any) -> None:
    from .conftest import sign_up

    user = sign_up(api)
    with local.files(CLIENT_PRIVACY=False):
        r = upload(user, "a.txt", b"a", "text/plain", {"X-Parse-File-Metadata": '{"private": 1}'})
        assert StoredFile.objects.get(name=r.json_body["name"]).private is False
    with local.files(PRIVATE_BY_DEFAULT=True):
        r = upload(user, "a.txt", b"a", "text/plain")
        assert StoredFile.objects.get(name=r.json_body["name"]).private is True
        assert "signature=" in r.json_body["url"]


def test_s3_app_url_redirects_to_the_cdn(s3: Backend, master: ParseClient) -> None:
    saved = stored(master)
    r = master.client.get(f"/parse/files/test-app/{saved['name']}")
    assert r.status_code == 302 and r["Location"] == saved["url"]


# --- files in objects ---------------------------------------------------------------------


def test_objects_carry_live_urls(backend: Backend, master: ParseClient) -> None:
    public = stored(master, "pub.txt")
    private = stored(master, "priv.txt", private=True)
    r = master.post(
        "classes/Album",
        {
            "cover": {"__type": "File", "name": public["name"], "url": "http://stale/x"},
            "pages": [{"__type": "File", "name": private["name"]}],
        },
    )
    assert r.status_code == 201, r.json_body
    got = master.get(f"classes/Album/{r.json_body['objectId']}").json_body
    assert got["cover"] == {"__type": "File", "name": public["name"], "url": public["url"]}
    page = got["pages"][0]
    assert page["__type"] == "File" and page["name"] == private["name"]
    signed = parse_qs(urlsplit(page["url"]).query)
    assert ("signature" in signed) if backend.kind == "local" else ("Signature" in signed)
    if backend.kind == "local":
        assert get_url(master, page["url"]).body_bytes == DATA
    else:
        assert http_get(page["url"])[2] == DATA


# --- delete and metadata ------------------------------------------------------------------


def test_delete_needs_the_master_key(backend: Backend, master: ParseClient, api: Any) -> None:
    saved = stored(master)
    r = api.delete(f"files/{saved['name']}")
    assert r.status_code == 403
    assert backend.stored(saved["name"]) == DATA
    r = master.delete(f"files/{saved['name']}")
    assert r.status_code == 200 and r.json_body == {}
    assert backend.stored(saved["name"]) is None
    assert not StoredFile.objects.filter(name=saved["name"]).exists()
    r = master.delete(f"files/{saved['name']}")
    assert r.json_body == {"code": 153, "error": "Could not delete file."}


def test_before_delete_file_can_refuse(local: Backend, master: ParseClient) -> None:
    from backend_kit import cloud
    from backend_kit.cloud.registry import registry

    snapshot = registry.snapshot()
    try:

        @cloud.before_delete_file()
        def keep(request: Any) -> None:
            raise cloud.ParseError(119, f"keep {request.extra['file']['name']}")

        saved = stored(master)
        r = master.delete(f"files/{saved['name']}")
        assert r.json_body == {"code": 119, "error": f"keep {saved['name']}"}
        assert local.stored(saved["name"]) == DATA
    finally:
        registry.restore(snapshot)


def test_metadata(backend: Backend, master: ParseClient) -> None:
    r = upload(master, "m.txt", b"12345", "text/plain", {"X-Parse-File-Metadata": '{"k": "v"}'})
    name = r.json_body["name"]
    got = master.client.get(f"/parse/files/test-app/metadata/{name}").json()
    assert got["metadata"] == {"k": "v"} and got["size"] == 5
    assert got["contentType"] == "text/plain" and got["name"] == name
    assert master.client.get("/parse/files/test-app/metadata/nope.txt").json() == {}
    private = stored(master, private=True)
    r = master.client.get(f"/parse/files/test-app/metadata/{private['name']}")
    assert r.status_code == 403
    r = master.client.get(
        f"/parse/files/test-app/metadata/{private['name']}",
        headers={"X-Parse-Master-Key": "test-master-key"},
    )
    assert r.json()["private"] is True
