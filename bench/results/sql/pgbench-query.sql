-- pgbench -M prepared
\set cat random(0, 999)
SELECT o."object_id", o."data", o."acl", to_char(o."created_at" AT TIME ZONE 'UTC', ('YYYY-MM-DD"T"HH24' || chr(58) || 'MI' || chr(58) || 'SS.MS"Z"')), to_char(o."updated_at" AT TIME ZONE 'UTC', ('YYYY-MM-DD"T"HH24' || chr(58) || 'MI' || chr(58) || 'SS.MS"Z"')), NULL AS bk_score FROM "backend_kit_objects_parseobject" AS o WHERE o."class_name" = 'BenchItem' AND (o."read_principals" ?| '{*}'::text[]) AND (((o."data" ->> 'category') COLLATE "C") = (('c' || lpad(:cat::text, 3, '0')))) ORDER BY (o."data" -> 'score') DESC NULLS LAST LIMIT '20';
