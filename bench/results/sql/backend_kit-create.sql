BEGIN;
SAVEPOINT "s140606284310208_x3";
INSERT INTO "backend_kit_objects_parseobject" ("class_name", "object_id", "data", "acl", "read_principals", "write_principals", "created_at", "updated_at") VALUES ('BenchItem', 'j32CZLLsaZ', '{"category":"c463","score":907796,"name":"new item","counter":0,"active":true}'::jsonb, NULL::jsonb, '{"*":true}'::jsonb, '{"*":true}'::jsonb, '2026-11-24 09:40:42.984000+00:00'::timestamptz, '2026-11-24 09:40:42.984000+00:00'::timestamptz);
RELEASE SAVEPOINT "s140606284310208_x3";
COMMIT;
