"""Direct uploads: a presigned request, the bytes straight to S3 (moto), then registration.

moto does not check presigned signatures, so what S3 itself would refuse (another
size or type than signed) reaches the bucket here; the registration step must then
refuse it and delete the object, which is what these tests hold the app to.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from backend_kit.files.models import StoredFile
from tests.conftest import ParseClient

from .conftest import Backend, sign_up

DATA = b"direct upload bytes " * 500


def presign(client: ParseClient, **body: Any) -> Any:
    return client.post("fileUploads", {"name": "movie.mp4", "contentType": "video/mp4", **body})


def complete(client: ParseClient, name: str) -> Any:
    return client.post(f"fileUploads/{name}/complete")


def test_presigned_put_upload(s3: Backend, api: ParseClient) -> None:
    user = sign_up(api)
    r = presign(user, size=len(DATA), metadata={"k": 1})
    assert r.status_code == 201, r.json_body
    ticket = r.json_body
    assert ticket["method"] == "PUT" and ticket["maxSize"] == len(DATA)
    assert "X-Amz-Signature=" in ticket["url"] and ticket["expiresAt"]["__type"] == "Date"
    signed = ticket["url"].split("X-Amz-SignedHeaders=")[1].split("&")[0]
    assert {"content-length", "content-type", "cache-control"} <= set(signed.split("%3B"))
    assert ticket["headers"] == {
        "Content-Type": "video/mp4",
        "Cache-Control": "public, max-age=31536000, immutable",
        "Content-Length": str(len(DATA)),
    }
    assert StoredFile.objects.get(name=ticket["name"]).status == "pending"
    # before the bytes are there, the file cannot be registered
    assert complete(user, ticket["name"]).json_body == {
        "code": 130,
        "error": "The file has not been uploaded yet.",
    }
    put = httpx.put(ticket["url"], content=DATA, headers=ticket["headers"])
    assert put.status_code == 200, put.text
    r = complete(user, ticket["name"])
    assert r.status_code == 201, r.json_body
    assert r.json_body["name"] == ticket["name"]
    assert s3.cdn is not None and r.json_body["url"] == f"{s3.cdn.url}/{ticket['name']}"
    record = StoredFile.objects.get(name=ticket["name"])
    assert (record.status, record.size, record.metadata) == ("ready", len(DATA), {"k": 1})
    assert record.checksum.startswith("etag:")
    assert httpx.get(r.json_body["url"]).content == DATA
    assert s3.head(ticket["name"])["CacheControl"] == "public, max-age=31536000, immutable"
    # registered once only
    assert complete(user, ticket["name"]).json_body["code"] == 130


def test_presigned_post_upload(s3: Backend, master: ParseClient) -> None:
    r = presign(master, method="POST", size=len(DATA))
    assert r.status_code == 201, r.json_body
    ticket = r.json_body
    conditions = ticket["fields"]
    assert conditions["Content-Type"] == "video/mp4" and "policy" in conditions
    import base64
    import json

    policy = json.loads(base64.b64decode(conditions["policy"]))
    assert ["content-length-range", 1, len(DATA)] in policy["conditions"]
    post = httpx.post(ticket["url"], data=ticket["fields"], files={"file": ("x", DATA)})
    assert post.status_code in (200, 204), post.text
    r = complete(master, ticket["name"])
    assert r.status_code == 201, r.json_body
    assert s3.stored(ticket["name"]) == DATA


def test_oversize_direct_uploads_are_refused(s3: Backend, api: ParseClient) -> None:
    user = sign_up(api)
    with s3.files(DIRECT_MAX_SIZE=1000):
        r = presign(user, size=1001)
        assert r.json_body == {
            "code": 130,
            "error": "File size exceeds maximum allowed: 1000 bytes.",
        }
        r = presign(user, method="POST")
        ticket = r.json_body
        assert ticket["maxSize"] == 1000
    # the client sends more than it was allowed: the bytes do not stay
    httpx.post(ticket["url"], data=ticket["fields"], files={"file": ("x", b"z" * 1001)})
    with s3.files(DIRECT_MAX_SIZE=1000):
        r = complete(user, ticket["name"])
    assert r.status_code == 413 and r.json_body["code"] == 130
    assert s3.stored(ticket["name"]) is None
    assert not StoredFile.objects.filter(name=ticket["name"]).exists()


def test_a_put_larger_than_signed_is_refused_at_registration(s3: Backend, api: ParseClient) -> None:
    user = sign_up(api)
    ticket = presign(user, size=100).json_body
    headers = {**ticket["headers"], "Content-Length": str(len(DATA))}
    httpx.put(ticket["url"], content=DATA, headers=headers)
    r = complete(user, ticket["name"])
    assert r.json_body == {"code": 130, "error": "File size exceeds maximum allowed: 100 bytes."}
    assert s3.everything() == []


def test_another_type_than_signed_is_refused(s3: Backend, master: ParseClient) -> None:
    ticket = presign(master, size=len(DATA)).json_body
    httpx.put(
        ticket["url"], content=DATA, headers={**ticket["headers"], "Content-Type": "text/html"}
    )
    r = complete(master, ticket["name"])
    assert r.json_body == {
        "code": 130,
        "error": "The uploaded file's Content-Type does not match.",
    }
    assert s3.everything() == []


def test_direct_upload_rules(s3: Backend, api: ParseClient) -> None:
    r = presign(api, size=10)
    assert r.json_body == {"code": 130, "error": "File upload by public is disabled."}
    user = sign_up(api)
    r = presign(user, name="x.html", contentType="text/html", size=10)
    assert r.json_body == {"code": 130, "error": "File upload of extension html is disabled."}
    assert presign(user).json_body == {"code": 130, "error": "size is required for a PUT upload."}
    assert presign(user, size=-1).json_body["code"] == 130
    assert presign(user, size=1, method="GET").json_body["code"] == 130
    other = sign_up(api)
    ticket = presign(user, size=10).json_body
    assert complete(other, ticket["name"]).json_body == {
        "code": 130,
        "error": "No pending upload with this name.",
    }


def test_direct_uploads_need_s3(local: Backend, master: ParseClient) -> None:
    r = presign(master, size=10)
    assert r.json_body == {"code": 130, "error": "Direct uploads need an S3 storage."}


@pytest.mark.parametrize("private", [True, False])
def test_direct_private_upload(s3: Backend, master: ParseClient, private: bool) -> None:
    ticket = presign(master, size=len(DATA), metadata={"private": private}).json_body
    expected = "private, max-age=3600" if private else "public, max-age=31536000, immutable"
    assert ticket["headers"]["Cache-Control"] == expected
    httpx.put(ticket["url"], content=DATA, headers=ticket["headers"])
    url = complete(master, ticket["name"]).json_body["url"]
    assert ("Signature=" in url) is private
    assert httpx.get(url).content == DATA
