\set n random(1, 100000)
BEGIN;
UPDATE "backend_kit_objects_parseobject" AS o SET "data" = jsonb_set("data", '{counter}', to_jsonb((CASE WHEN jsonb_typeof(("data" #> '{counter}')) = 'number' THEN (("data" #> '{counter}') #>> '{}')::float8 ELSE 0 END) + 1::float8), true), "updated_at" = '2026-11-24 11:00:43.898000+00:00'::timestamptz WHERE o."class_name" = 'BenchItem' AND o."object_id" = (('o' || lpad(:n::text, 9, '0'))) AND (o."write_principals" ?| '{*}') AND (1=1) RETURNING "object_id", "data", "acl", "created_at", "updated_at";
COMMIT;
