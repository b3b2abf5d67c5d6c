SELECT * FROM "_User" WHERE ("username" = 'user00116' OR "email" = 'user00116');
INSERT INTO "_Session" ("sessionToken","user","createdWith","expiresAt","updatedAt","createdAt","objectId") VALUES ('r:80b94eba02e8701ed6942d1e713acb0b','e9Mr7uUy5F','{"action":"login","authProvider":"password"}','2027-11-25T02:40:55.025Z','2026-11-25T02:40:55.025Z','2026-11-25T02:40:55.025Z','fNl4yiAvFB');
SELECT * FROM "_User" WHERE "objectId" = 'e9Mr7uUy5F' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*','e9Mr7uUy5F']);
