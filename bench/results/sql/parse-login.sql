SELECT * FROM "_User" WHERE ("username" = 'user00116' OR "email" = 'user00116');
INSERT INTO "_Session" ("sessionToken","user","createdWith","expiresAt","updatedAt","createdAt","objectId") VALUES ('r:e66e5e67c4f59d5d135dcb3573331357','BoukTMuDJH','{"action":"login","authProvider":"password"}','2027-11-24T16:58:01.740Z','2026-11-24T16:58:01.741Z','2026-11-24T16:58:01.741Z','0Lgv3BPpGd');
SELECT * FROM "_User" WHERE "objectId" = 'BoukTMuDJH' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*','BoukTMuDJH']);
