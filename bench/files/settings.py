"""Settings of the upload-memory benchmark (see upload_memory.py): the test project's
apps, a SQLite file and a media directory under ``BENCH_DIR``, 400 MB uploads allowed;
``BENCH_S3_ENDPOINT``/``BENCH_S3_BUCKET`` switch the files to S3 (moto_server)."""

import os

from tests.projects.base import *  # noqa: F403
from tests.projects.base import BACKEND_KIT

BENCH_DIR = os.environ["BENCH_DIR"]
DEBUG = False
ROOT_URLCONF = "tests.projects.urls"
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.path.join(BENCH_DIR, "db.sqlite3"),
        "OPTIONS": {"transaction_mode": "IMMEDIATE", "timeout": 20},
    }
}
MEDIA_ROOT = os.path.join(BENCH_DIR, "media")
FILE_UPLOAD_TEMP_DIR = BENCH_DIR
BACKEND_KIT = {
    **BACKEND_KIT,
    "SERVER_URL": os.environ.get("BENCH_SERVER_URL", "http://127.0.0.1:8000/parse"),
    "FILES": {"MAX_SIZE": 400 * 1024 * 1024},
}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
if os.environ.get("BENCH_S3_ENDPOINT"):
    STORAGES["backend_kit_files"] = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": os.environ["BENCH_S3_BUCKET"],
            "endpoint_url": os.environ["BENCH_S3_ENDPOINT"],
            "access_key": "testing",
            "secret_key": "testing",
            "region_name": "us-east-1",
            "addressing_style": "path",
        },
    }
