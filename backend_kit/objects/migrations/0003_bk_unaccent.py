"""An IMMUTABLE wrapper of ``unaccent`` for accent-insensitive full-text indexes.

PostgreSQL's ``unaccent()`` is only STABLE (its dictionary could change), so it cannot
appear in an index expression; wrapping it with the dictionary named is the usual way.
Created only when the unaccent extension is installed (migration 0002 tries to).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION bk_unaccent(text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
AS $$ SELECT unaccent('unaccent'::regdictionary, $1) $$
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'unaccent'")
        if cursor.fetchone() is None:
            return
        cursor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        with schema_editor.connection.cursor() as cursor:
            cursor.execute("DROP FUNCTION IF EXISTS bk_unaccent(text)")


class Migration(migrations.Migration):
    dependencies = [("backend_kit_objects", "0002_postgres_unaccent")]
    operations = [migrations.RunPython(create, drop)]
