SELECT * FROM "_User" WHERE ("username" = 'user00116' OR "email" = 'user00116');
INSERT INTO "_Session" ("sessionToken","user","createdWith","expiresAt","updatedAt","createdAt","objectId") VALUES ('r:eb0cc4c97d81e21d28ba0a91c79f262f','ZXmCvOzgGh','{"action":"login","authProvider":"password"}','2027-11-24T11:16:00.101Z','2026-11-24T11:16:00.101Z','2026-11-24T11:16:00.101Z','Gn5GYg7PiG');
SELECT * FROM "_User" WHERE "objectId" = 'ZXmCvOzgGh' AND ("_rperm" IS NULL OR "_rperm" && ARRAY['*','*','ZXmCvOzgGh']);
