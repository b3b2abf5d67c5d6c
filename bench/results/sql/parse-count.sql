SELECT count(*) FROM "BenchItem" WHERE "category" = 'c463' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*']);
