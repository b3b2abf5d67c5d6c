SELECT * FROM "_User" WHERE ("username" = 'user00116' OR "email" = 'user00116');
INSERT INTO "_Session" ("sessionToken","user","createdWith","expiresAt","updatedAt","createdAt","objectId") VALUES ('r:9f1e35c1076a7c57f244a7047f3d05dd','ZXmCvOzgGh','{"action":"login","authProvider":"password"}','2027-11-24T11:00:47.442Z','2026-11-24T11:00:47.442Z','2026-11-24T11:00:47.442Z','JjLjRnTxQC');
SELECT * FROM "_User" WHERE "objectId" = 'ZXmCvOzgGh' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*','ZXmCvOzgGh']);
