SELECT * FROM "_User" WHERE ("username" = 'user00116' OR "email" = 'user00116');
INSERT INTO "_Session" ("sessionToken","user","createdWith","expiresAt","updatedAt","createdAt","objectId") VALUES ('r:6d073e95e0b2ae10a3615c8337f69c6a','cOP3FvA7ML','{"action":"login","authProvider":"password"}','2027-11-24T09:40:47.618Z','2026-11-24T09:40:47.618Z','2026-11-24T09:40:47.618Z','zMftn4QLPs');
SELECT * FROM "_User" WHERE "objectId" = 'cOP3FvA7ML' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*','cOP3FvA7ML']);
