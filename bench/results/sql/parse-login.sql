SELECT * FROM "_User" WHERE ("username" = 'user00116' OR "email" = 'user00116');
INSERT INTO "_Session" ("sessionToken","user","createdWith","expiresAt","updatedAt","createdAt","objectId") VALUES ('r:d7d2161014ab043162f9f728a84f73e6','cOP3FvA7ML','{"action":"login","authProvider":"password"}','2027-11-24T08:56:20.521Z','2026-11-24T08:56:20.521Z','2026-11-24T08:56:20.521Z','kwZk60mCfF');
SELECT * FROM "_User" WHERE "objectId" = 'cOP3FvA7ML' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*','cOP3FvA7ML']);
