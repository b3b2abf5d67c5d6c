SELECT * FROM "_User" WHERE ("username" = 'user00116' OR "email" = 'user00116');
INSERT INTO "_Session" ("sessionToken","user","createdWith","expiresAt","updatedAt","createdAt","objectId") VALUES ('r:dad1f819c18dafedfa6b2e0e9aa0a0a3','BoukTMuDJH','{"action":"login","authProvider":"password"}','2027-11-24T15:41:44.241Z','2026-11-24T15:41:44.241Z','2026-11-24T15:41:44.241Z','bDDpRn3E4j');
SELECT * FROM "_User" WHERE "objectId" = 'BoukTMuDJH' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*','BoukTMuDJH']);
