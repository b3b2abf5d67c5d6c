"""Cloud code of the SDK-suite mode (``BACKEND_KIT_CONFORMANCE=sdk``)."""

from __future__ import annotations

from typing import Any

from backend_kit import cloud
from backend_kit.cloud import Object, Query


@cloud.define("bar")
def bar(request: cloud.CloudRequest) -> str:
    if request.params.get("key2") == "value1":
        return "Foo"
    raise cloud.CloudError("bad stuff happened")


@cloud.define("TestFetchFromLocalDatastore")
def fetch_from_local_datastore(request: cloud.CloudRequest) -> Any:
    item = Query("Item").get(request.params["id"], auth=request)
    item.set("foo", "changed")
    return item.save(auth=request)


@cloud.define("UpdateUser")
def update_user(request: cloud.CloudRequest) -> Any:
    user = Query("_User").get(request.params["id"], master=True)
    user.set("foo", "changed")
    return user.save(master=True)


@cloud.define("CloudFunctionIdempotency")
def idempotency(request: cloud.CloudRequest) -> None:
    Object("IdempotencyItem").save(master=True)


@cloud.define("CloudFunctionUndefined")
def undefined(request: cloud.CloudRequest) -> None:
    return None


# --- LiveQuery hooks (the suite installs them through reconfigureServer) -----------------


@cloud.before_subscribe("TestError")
def refuse_test_error(request: cloud.CloudRequest) -> None:
    raise cloud.CloudError("not allowed to subscribe")


@cloud.before_connect()
def refuse_test_token(request: cloud.CloudRequest) -> None:
    if request.extra.get("session_token") == "testToken":
        raise cloud.CloudError("not allowed to connect")


# --- jobs: exactly three (the suite counts them) ------------------------------------------


@cloud.job("CloudJob1")
def cloud_job_1(request: Any) -> dict[str, str]:
    # Not a string, so (as in Parse) it does not become the status message.
    return {"status": "cloud job completed"}


@cloud.job("CloudJob2")
def cloud_job_2(request: Any) -> dict[str, str]:
    import time

    time.sleep(1)
    return {"status": "cloud job completed"}


@cloud.job("CloudJobFailing")
def cloud_job_failing(request: Any) -> None:
    raise cloud.CloudError("cloud job failed")
