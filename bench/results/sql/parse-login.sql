SELECT * FROM "_User" WHERE ("username" = 'user00116' OR "email" = 'user00116');
INSERT INTO "_Session" ("sessionToken","user","createdWith","expiresAt","updatedAt","createdAt","objectId") VALUES ('r:8f47c4d6b59db583cc4600c1ac37e6e5','EMr6Q2xQ5u','{"action":"login","authProvider":"password"}','2027-11-24T13:40:00.076Z','2026-11-24T13:40:00.076Z','2026-11-24T13:40:00.076Z','GTlaAnEpsm');
SELECT * FROM "_User" WHERE "objectId" = 'EMr6Q2xQ5u' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*','EMr6Q2xQ5u']);
