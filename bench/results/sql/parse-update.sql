UPDATE "BenchItem" SET "counter" = COALESCE("counter", 0) + 1,"updatedAt" = '2026-11-25T02:40:54.539Z' WHERE "objectId" = 'o000059295' AND ("_wperm" IS NULL OR "_wperm" && ARRAY['*']) RETURNING *;
