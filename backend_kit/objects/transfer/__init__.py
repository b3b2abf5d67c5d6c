"""Moving classes in and out as Parse's JSON export (``{"results": [...]}``), streamed.

Used by the ``bk_export`` and ``bk_import`` commands. Export walks a class in keyset
order (``object_id > last``), one chunk at a time, so memory does not grow with the
class. Import reads the file incrementally (ijson) and writes batches, each in its own
transaction, as upserts by objectId: re-importing the same file changes nothing.

Accepted input, one record shape detected per record:
- Parse REST objects (``bk_export``, Parse's own export, the dashboard's JSON export);
- MongoDB documents from a Parse database (``_id``, ``_created_at``, ``_rperm``,
  ``_p_<field>: "Class$id"``, Extended JSON ``{"$date": ...}``), as mongoexport writes
  them: one per line or in an array.

A directory holds ``<Class>.json`` files, ``_SCHEMA.json`` and the relation memberships
``_Join:<key>:<OwnerClass>.json`` (``{"owningId", "relatedId"}``), as Parse names them.

Special classes plug in through :func:`register_importer`: the accounts app gives
``_User`` (Django users, password hashes, linked identities), ``_Role`` and ``_Session``
their own :class:`ClassImporter`, the push app ``_Installation`` (device records). Parse's
rule of one installation per ``installationId`` holds whichever importer stores them.

Modules: ``base`` (errors, counts, options), ``reading`` (JSON in), ``mongo`` (MongoDB
documents), ``importers`` (the per-class hook), ``storing`` (upserts), ``installations``,
``relations``, ``schemas``, ``importing`` (the :class:`Importer`), ``exporting``.
"""

from .base import (
    ID_LOOKUP_SLICE,
    MASTER,
    SCHEMA_FILE,
    Counts,
    ImportOptions,
    ProgressBar,
    ProgressFactory,
    RecordError,
    TransferError,
    no_progress,
)
from .exporting import Exporter, iter_object_chunks, iter_relation_chunks, open_output
from .importers import ClassImporter, importer_for, register_importer
from .importing import JOIN_FILE_RE, JSON_SUFFIXES, Importer, Source, source_for_file
from .mongo import is_mongo_document, mongo_schema_to_api, mongo_to_rest, plain_json
from .reading import iter_records
from .storing import ImportRow, upsert_rows

__all__ = [
    "ID_LOOKUP_SLICE",
    "JOIN_FILE_RE",
    "JSON_SUFFIXES",
    "MASTER",
    "SCHEMA_FILE",
    "ClassImporter",
    "Counts",
    "Exporter",
    "ImportOptions",
    "ImportRow",
    "Importer",
    "ProgressBar",
    "ProgressFactory",
    "RecordError",
    "Source",
    "TransferError",
    "importer_for",
    "is_mongo_document",
    "iter_object_chunks",
    "iter_records",
    "iter_relation_chunks",
    "mongo_schema_to_api",
    "mongo_to_rest",
    "no_progress",
    "open_output",
    "plain_json",
    "register_importer",
    "source_for_file",
    "upsert_rows",
]
