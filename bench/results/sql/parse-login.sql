SELECT * FROM "_User" WHERE ("username" = 'user00116' OR "email" = 'user00116');
INSERT INTO "_Session" ("sessionToken","user","createdWith","expiresAt","updatedAt","createdAt","objectId") VALUES ('r:2913e18b347c13a2b7c39d516b52dd97','ZXmCvOzgGh','{"action":"login","authProvider":"password"}','2027-11-24T10:33:22.602Z','2026-11-24T10:33:22.602Z','2026-11-24T10:33:22.602Z','RsFK6QmJT3');
SELECT * FROM "_User" WHERE "objectId" = 'ZXmCvOzgGh' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*','ZXmCvOzgGh']);
