"""Files: uploads streamed into a Django storage, served by the app or a CDN.

Install ``"backend_kit.files"`` after ``"backend_kit.objects"``. Files are written to
the ``STORAGES`` alias ``"backend_kit_files"`` (local disk under ``MEDIA_ROOT`` when
the host does not define it; S3 through django-storages in production)::

    STORAGES = {
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
        "backend_kit_files": {
            "BACKEND": "storages.backends.s3.S3Storage",
            "OPTIONS": {"bucket_name": "my-app-files", "region_name": "eu-west-1"},
        },
    }
    BACKEND_KIT["FILES"] = {"CDN_URL": "https://files.example.com", "MAX_SIZE": 50 * 2**20}

Endpoints (under the mount): ``POST /files/<name>``, ``DELETE /files/<name>``,
``GET /files/<appId>/<name>``, ``GET /files/<appId>/metadata/<name>``,
``POST /fileUploads``, ``POST /fileUploads/<name>/complete`` (see :mod:`.views`,
:mod:`.direct`). Settings: :mod:`.settings`. Clean-up: ``manage.py bk_files_cleanup``.
Triggers: ``@cloud.before_save_file()``, ``after_save_file``, ``before_delete_file``,
``after_delete_file`` (see :class:`backend_kit.objects.hooks.Triggers`).
"""
