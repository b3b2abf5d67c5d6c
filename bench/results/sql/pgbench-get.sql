-- pgbench -M prepared
\set n random(1, 100000)
SELECT o."object_id", o."data", o."acl", to_char(o."created_at" AT TIME ZONE 'UTC', ('YYYY-MM-DD"T"HH24' || chr(58) || 'MI' || chr(58) || 'SS.MS"Z"')), to_char(o."updated_at" AT TIME ZONE 'UTC', ('YYYY-MM-DD"T"HH24' || chr(58) || 'MI' || chr(58) || 'SS.MS"Z"')), NULL AS bk_score FROM "backend_kit_objects_parseobject" AS o WHERE o."class_name" = 'BenchItem' AND (o."read_principals" ?| '{*}'::text[]) AND (o."object_id" = (('o' || lpad(:n::text, 9, '0')))) LIMIT '1';
