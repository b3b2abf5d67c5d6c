"""``bk_within_size(value, max_chars)`` on PostgreSQL: the object size limit inside an UPDATE.

An update's field operations (Increment, Add, ...) are computed by the database, so the
size of the object they give is known only there. The function returns ``value`` when
its text form has at most ``max_chars`` characters (or ``max_chars`` is NULL), and
otherwise fails the statement (SQLSTATE 54000, ``bk_object_too_large``): the UPDATE
then writes nothing, with or without a transaction around it. The measure is the one
the server applies to the row it reads back (``writes.check_object_size``).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION bk_within_size(value jsonb, max_chars integer) RETURNS jsonb
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
    IF max_chars IS NOT NULL AND length(value::text) > max_chars THEN
        RAISE EXCEPTION USING ERRCODE = '54000', MESSAGE = 'bk_object_too_large';
    END IF;
    RETURN value;
END
$$
"""
DROP = "DROP FUNCTION IF EXISTS bk_within_size(jsonb, integer)"


def create_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_function(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("backend_kit_objects", "0003_bk_unaccent")]
    operations = [migrations.RunPython(create_function, drop_function)]
