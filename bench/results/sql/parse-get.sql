SELECT * FROM "BenchItem" WHERE "objectId" = 'o000059295' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*']);
