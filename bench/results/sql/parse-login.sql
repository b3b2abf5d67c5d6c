SELECT * FROM "_User" WHERE ("username" = 'user00116' OR "email" = 'user00116');
INSERT INTO "_Session" ("sessionToken","user","createdWith","expiresAt","updatedAt","createdAt","objectId") VALUES ('r:04bb58c2652afa4d600bb40291f7af2f','QVOvHNYGFE','{"action":"login","authProvider":"password"}','2027-11-24T19:53:55.196Z','2026-11-24T19:53:55.196Z','2026-11-24T19:53:55.196Z','A7kQtYJXQ0');
SELECT * FROM "_User" WHERE "objectId" = 'QVOvHNYGFE' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*','QVOvHNYGFE']);
