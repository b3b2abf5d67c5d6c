\set n random(1, 100000)
SELECT o."object_id", o."data", o."acl", o."created_at", o."updated_at", NULL AS bk_score FROM "backend_kit_objects_parseobject" AS o WHERE o."class_name" = 'BenchItem' AND (o."read_principals" ?| '{*}') AND (o."object_id" = (('o' || lpad(:n::text, 9, '0')))) LIMIT 1;
