BEGIN;
INSERT INTO "backend_kit_objects_parseobject" ("class_name", "object_id", "data", "acl", "read_principals", "write_principals", "created_at", "updated_at") VALUES ('BenchItem', '0XPkN6wfXR', '{"category":"c463","score":907796,"name":"new item","counter":0,"active":true}'::jsonb, NULL::jsonb, '{"*":true}'::jsonb, '{"*":true}'::jsonb, '2026-11-24 11:41:24.973000+00:00'::timestamptz, '2026-11-24 11:41:24.973000+00:00'::timestamptz) ON CONFLICT ("class_name", "object_id") DO NOTHING;
COMMIT;
