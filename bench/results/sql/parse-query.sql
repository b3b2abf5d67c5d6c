SELECT * FROM "BenchItem" WHERE "category" = 'c463' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*']) ORDER BY "score" DESC LIMIT 20;
