SELECT * FROM "_User" WHERE ("username" = 'user00116' OR "email" = 'user00116');
INSERT INTO "_Session" ("sessionToken","user","createdWith","expiresAt","updatedAt","createdAt","objectId") VALUES ('r:8be59ac32b4282bb09c9facccae3c18a','czb7UNxT0e','{"action":"login","authProvider":"password"}','2027-11-24T23:50:31.291Z','2026-11-24T23:50:31.291Z','2026-11-24T23:50:31.291Z','9rzEM4dmHE');
SELECT * FROM "_User" WHERE "objectId" = 'czb7UNxT0e' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*','czb7UNxT0e']);
