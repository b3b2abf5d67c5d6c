SELECT * FROM "_User" WHERE ("username" = 'user00116' OR "email" = 'user00116');
INSERT INTO "_Session" ("sessionToken","user","createdWith","expiresAt","updatedAt","createdAt","objectId") VALUES ('r:d224d3d84aa2aa3aedcbe49742e9b9dd','uD9gzcm4ZS','{"action":"login","authProvider":"password"}','2027-11-24T07:07:56.767Z','2026-11-24T07:07:56.767Z','2026-11-24T07:07:56.767Z','IF7l4fVyqY');
SELECT * FROM "_User" WHERE "objectId" = 'uD9gzcm4ZS' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*','uD9gzcm4ZS']);
