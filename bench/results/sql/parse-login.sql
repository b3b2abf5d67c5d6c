SELECT * FROM "_User" WHERE ("username" = 'user00116' OR "email" = 'user00116');
INSERT INTO "_Session" ("sessionToken","user","createdWith","expiresAt","updatedAt","createdAt","objectId") VALUES ('r:1b345ead290bfa5388832de8f1ab3ba5','QVOvHNYGFE','{"action":"login","authProvider":"password"}','2027-11-24T19:02:47.941Z','2026-11-24T19:02:47.941Z','2026-11-24T19:02:47.941Z','qEJf2o3LmY');
SELECT * FROM "_User" WHERE "objectId" = 'QVOvHNYGFE' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*','QVOvHNYGFE']);
