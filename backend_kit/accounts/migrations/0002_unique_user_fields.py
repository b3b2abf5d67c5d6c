"""Unique indexes on the objects table that the accounts rules rely on.

Usernames and e-mail addresses are unique ignoring case, role names are unique,
and a session token hash finds its session through an index. Partial expression
indexes on the shared objects table (one per class), written for PostgreSQL and
SQLite with the same expressions the queries use.
"""

from django.db import migrations

UNIQUE = [
    ("bk_user_username_ci", "_User", "lower({})", "username"),
    ("bk_user_email_ci", "_User", "lower({})", "email"),
    ("bk_role_name", "_Role", "{}", "name"),
    ("bk_session_token", "_Session", "{}", "_token_hash"),
]


def _expr(vendor, key):
    if vendor == "postgresql":
        return f"(\"data\" ->> '{key}')"
    return f"json_extract(\"data\", '$.\"{key}\"')"


def create(apps, schema_editor):
    conn = schema_editor.connection
    if conn.vendor not in ("postgresql", "sqlite"):
        return
    table = conn.ops.quote_name("backend_kit_objects_parseobject")
    with conn.cursor() as cursor:
        for name, class_name, wrap, key in UNIQUE:
            cursor.execute(
                f'CREATE UNIQUE INDEX IF NOT EXISTS "{name}" ON {table} ({wrap.format(_expr(conn.vendor, key))}) '
                f"WHERE \"class_name\" = '{class_name}'"
            )


def drop(apps, schema_editor):
    with schema_editor.connection.cursor() as cursor:
        for name, *_ in UNIQUE:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [("backend_kit_accounts", "0001_initial"), ("backend_kit_objects", "0002_postgres_unaccent")]
    operations = [migrations.RunPython(create, drop)]
