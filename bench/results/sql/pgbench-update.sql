\set n random(1, 100000)
BEGIN;
UPDATE "backend_kit_objects_parseobject" AS o SET "data" = jsonb_set("data", '{counter}', to_jsonb((CASE WHEN jsonb_typeof(("data" #> '{counter}')) = 'number' THEN (("data" #> '{counter}') #>> '{}')::float8 ELSE 0 END) + 1::float8), true), "updated_at" = '2026-11-24 11:41:25.228000+00:00'::timestamptz WHERE o."class_name" = 'BenchItem' AND o."object_id" = (('o' || lpad(:n::text, 9, '0'))) AND (o."write_principals" ?| '{*}') AND (1=1) RETURNING "object_id", "data", "acl", to_char("created_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'), to_char("updated_at" AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"');
COMMIT;
