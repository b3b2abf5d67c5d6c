"""Install PostgreSQL's ``unaccent`` extension when allowed (accent-insensitive $text).

Trusted since PostgreSQL 13, so the database owner may create it. Where it cannot be
created the migration leaves a note and full-text search stays accent-sensitive.
"""

from django.db import migrations


def create_unaccent(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SAVEPOINT bk_unaccent")
        try:
            cursor.execute("CREATE EXTENSION IF NOT EXISTS unaccent")
            cursor.execute("RELEASE SAVEPOINT bk_unaccent")
        except Exception:
            cursor.execute("ROLLBACK TO SAVEPOINT bk_unaccent")


class Migration(migrations.Migration):
    dependencies = [("backend_kit_objects", "0001_initial")]
    operations = [migrations.RunPython(create_unaccent, migrations.RunPython.noop, elidable=True)]
