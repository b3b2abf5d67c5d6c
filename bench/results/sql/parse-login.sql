SELECT * FROM "_User" WHERE ("username" = 'user00116' OR "email" = 'user00116');
INSERT INTO "_Session" ("sessionToken","user","createdWith","expiresAt","updatedAt","createdAt","objectId") VALUES ('r:cb56247385ee9a4b0ce9110eb24b5f5d','raDBxmETgl','{"action":"login","authProvider":"password"}','2027-11-24T21:37:41.025Z','2026-11-24T21:37:41.025Z','2026-11-24T21:37:41.025Z','22vH7dAGe4');
SELECT * FROM "_User" WHERE "objectId" = 'raDBxmETgl' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*','raDBxmETgl']);
