"""Settings of the ASGI servers the realtime tests start (the example project's, plus a layer).

Read from the environment the harness sets: ``BK_LQ_REDIS_URL`` (a channels_redis
layer shared by every server of the run; none means one process without a layer),
``BK_LQ_PREFIX`` (the run's own key prefix in Redis), ``BK_LQ_SEND_QUEUE`` and
``BK_LQ_CLASSES`` (the benchmark's class).
"""

from __future__ import annotations

import os

from example_project.settings import *  # noqa: F403
from example_project.settings import BACKEND_KIT

BACKEND_KIT["LIVE_QUERY"] = {
    "CLASSES": os.environ.get("BK_LQ_CLASSES", "LQItem,LQOther,LQBig").split(","),
    "SEND_QUEUE": int(os.environ.get("BK_LQ_SEND_QUEUE", "1000")),
}

_redis = os.environ.get("BK_LQ_REDIS_URL")
if _redis:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                # redis-py 8 times reads out after 5 s, as long as channels_redis' blocking
                # pops wait: without this every idle receive may fail.
                "hosts": [{"address": _redis, "socket_timeout": None}],
                "prefix": os.environ.get("BK_LQ_PREFIX", "bk_lq_test"),
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
