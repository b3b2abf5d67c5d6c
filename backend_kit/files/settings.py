"""Files settings, read from ``BACKEND_KIT["FILES"]`` (a dict; every key optional).

Storage
    ``STORAGE`` (``"backend_kit_files"``)
        The Django ``STORAGES`` alias files are written to. When the alias is not in
        ``settings.STORAGES`` the embedded default is used: a ``FileSystemStorage`` in
        ``MEDIA_ROOT / "backend_kit_files"``, served by the app. In production point the
        alias at django-storages' ``storages.backends.s3.S3Storage``.
    ``CDN_URL`` (``None``)
        Base URL of a CDN in front of the storage, e.g. ``"https://cdn.example.com"``.
        Public files get ``CDN_URL/<object key>`` (the key includes an S3 storage's
        ``location``). Without it: the app's own URL for local disk, the storage's URL
        (its ``custom_domain`` when set) for S3.
    ``CLOUDFRONT_KEY_ID``, ``CLOUDFRONT_KEY`` (``None``)
        A CloudFront key pair id and its private key (PEM). With a CDN URL, private files
        then get CloudFront signed URLs; without, S3 presigned URLs. An S3 storage's own
        ``cloudfront_key_id``/``cloudfront_key`` options are used when these are unset.
    ``SIGNED_URL_TTL`` (``3600``)
        Seconds a private file's signed URL stays valid.
    ``PUBLIC_CACHE_CONTROL`` (``"public, max-age=31536000, immutable"``)
        ``Cache-Control`` written with public objects and sent when the app serves them.
        Names are never reused, so a cached copy can never be stale. Private objects get
        ``private, max-age=<SIGNED_URL_TTL>``.
    ``PART_SIZE`` (``8 * 1024 * 1024``)
        Bytes read from an upload at a time, and the S3 multipart part size (at least
        5 MiB). Bounds the memory one upload uses.

Upload rules (Parse Server 9's defaults; the master key bypasses all but the size)
    ``MAX_SIZE`` (``20 * 1024 * 1024``)
        Largest file in bytes, counted while the upload streams. An upload over it is
        cut off and nothing is stored. The JS SDK's base64 form is held in memory, so
        large files should be sent raw (the Node SDK does) or uploaded directly to S3.
    ``DIRECT_MAX_SIZE`` (``5 * 1024**3``)
        Largest file a client may upload straight to S3 with a presigned request.
    ``DIRECT_UPLOAD_TTL`` (``900``)
        Seconds a presigned upload request stays valid.
    ``ALLOWED_CONTENT_TYPES`` (``None``)
        ``None`` allows any type; else a list of types or ``type/*`` patterns, e.g.
        ``["image/*", "application/pdf"]``.
    ``EXTENSIONS`` (Parse 9's list)
        Regular expressions an upload's extension (and, for unknown extensions, its
        Content-Type subtype) must match for a non-master caller. The default refuses
        html, htm, shtml, xhtml, xht, svg, svgz, xml, xsl, xslt, xsd, rng, rdf, owl,
        mathml and their ``+xml`` forms; ``["*"]`` allows everything.
    ``ENABLE_FOR_PUBLIC`` (``False``), ``ENABLE_FOR_ANONYMOUS`` (``False``),
    ``ENABLE_FOR_AUTHENTICATED`` (``True``)
        Who may upload: callers without a session, anonymous users (``authData.anonymous``),
        other signed-in users. A refusal is ``130 File upload by ... is disabled.``
    ``UPLOAD_ROLES`` (``None``)
        A list of role names: a non-master caller must hold one of them to upload.
    ``PRIVATE_BY_DEFAULT`` (``False``)
        Whether a new file is private (signed, expiring URLs) unless the client says.
    ``CLIENT_PRIVACY`` (``True``)
        Whether a client may choose, with ``metadata.private`` (``fileData.metadata``,
        ``X-Parse-File-Metadata``, or the direct-upload request). The master key always may.

Clean-up
    ``CLEANUP_GRACE`` (``86400``)
        Seconds a file must have existed before ``bk_files_cleanup`` may delete it when
        no object references it (unfinished direct uploads: after their expiry).
    ``CLEANUP_JOB`` (``None``)
        A job name (e.g. ``"bk_files_cleanup"``) to register the clean-up as a cloud job,
        runnable with ``POST /jobs/<name>`` or on a schedule; params ``{"delete": true,
        "grace": seconds}``. Needs ``backend_kit.cloud``.
"""

from __future__ import annotations

from typing import Any

from ..conf import bk_settings

# Parse Server 9's ``fileUpload.fileExtensions`` default: everything but the types a
# browser renders as active content.
PARSE_DEFAULT_EXTENSIONS = [
    r"^(?!([xXsS]?[hH][tT][mM][lL]?(\+[xX][mM][lL])?|[xX][hH][tT]|[sS][vV][gG]([zZ]|\+[xX][mM][lL])?"
    r"|[xX][mM][lL]|[xX][sS][lL][tT]?(\+[xX][mM][lL])?|[xX][sS][dD]|[rR][nN][gG]|[rR][dD][fF](\+[xX][mM][lL])?"
    r"|[oO][wW][lL]|[mM][aA][tT][hH][mM][lL](\+[xX][mM][lL])?)$)"
]

DEFAULTS: dict[str, Any] = {
    "STORAGE": "backend_kit_files",
    # Storage alias for private files (None: STORAGE). Point it at another bucket, or
    # at the same bucket with its own ``location``, so a CDN can require signed URLs
    # for private files alone.
    "PRIVATE_STORAGE": None,
    "CDN_URL": None,
    "CLOUDFRONT_KEY_ID": None,
    "CLOUDFRONT_KEY": None,
    "SIGNED_URL_TTL": 3600,
    "PUBLIC_CACHE_CONTROL": "public, max-age=31536000, immutable",
    "PART_SIZE": 8 * 1024 * 1024,
    "MAX_SIZE": 20 * 1024 * 1024,
    "DIRECT_MAX_SIZE": 5 * 1024**3,
    "DIRECT_UPLOAD_TTL": 900,
    "ALLOWED_CONTENT_TYPES": None,
    "EXTENSIONS": PARSE_DEFAULT_EXTENSIONS,
    "ENABLE_FOR_PUBLIC": False,
    "ENABLE_FOR_ANONYMOUS": False,
    "ENABLE_FOR_AUTHENTICATED": True,
    "UPLOAD_ROLES": None,
    "PRIVATE_BY_DEFAULT": False,
    "CLIENT_PRIVACY": True,
    "CLEANUP_GRACE": 86400,
    "CLEANUP_JOB": None,
}

# The smallest part S3 accepts in a multipart upload (all but the last).
MIN_PART_SIZE = 5 * 1024 * 1024


def user_settings() -> dict[str, Any]:
    conf = bk_settings.get("FILES")
    return conf if isinstance(conf, dict) else {}


def get(name: str) -> Any:
    return user_settings().get(name, DEFAULTS[name])


def max_size() -> int:
    return int(get("MAX_SIZE"))


def part_size() -> int:
    return max(int(get("PART_SIZE")), MIN_PART_SIZE)


def json_form_limit() -> int:
    """Largest body of the JS SDK's JSON form: base64 of ``MAX_SIZE`` plus the envelope."""
    return (max_size() + 2) // 3 * 4 + 256 * 1024


def private_cache_control() -> str:
    return f"private, max-age={int(get('SIGNED_URL_TTL'))}"
