SELECT COUNT(*) FROM "backend_kit_objects_parseobject" AS o WHERE o."class_name" = 'BenchItem' AND (o."read_principals" ?| '{*}'::text[]) AND (((o."data" ->> 'category') COLLATE "C") = 'c463');
