SELECT * FROM "_User" WHERE ("username" = 'user00116' OR "email" = 'user00116');
INSERT INTO "_Session" ("sessionToken","user","createdWith","expiresAt","updatedAt","createdAt","objectId") VALUES ('r:7f2a7ec1338cfc6e286d3e9ce5fa1d1e','ZXmCvOzgGh','{"action":"login","authProvider":"password"}','2027-11-24T11:41:28.769Z','2026-11-24T11:41:28.769Z','2026-11-24T11:41:28.769Z','kGaiYNHt9i');
SELECT * FROM "_User" WHERE "objectId" = 'ZXmCvOzgGh' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*','ZXmCvOzgGh']);
