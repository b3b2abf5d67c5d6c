// The Parse JS SDK (npm `parse`, from tests/sdk/node_modules) uploading files to a live
// backend_kit server. Prints one JSON document with what the Python test checks.
//
// Env: PARSE_SERVER_URL, PARSE_APP_ID, PARSE_JAVASCRIPT_KEY, PARSE_MASTER_KEY,
//      SDK_DIR (holds node_modules/parse), PAYLOAD (a file whose bytes are uploaded).
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { randomUUID } from 'node:crypto';

const require = createRequire(`${process.env.SDK_DIR}/package.json`);
const Parse = require('parse/node');

Parse.initialize(process.env.PARSE_APP_ID, process.env.PARSE_JAVASCRIPT_KEY, process.env.PARSE_MASTER_KEY);
Parse.serverURL = process.env.PARSE_SERVER_URL;

const payload = readFileSync(process.env.PAYLOAD);
const out = {};

async function failure(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    // the SDK rejects with a Parse.Error, or with the server's {code, error} for raw uploads
    return { code: e.code, message: e.message ?? e.error };
  }
}

// Public uploads are refused by default (Parse Server 9).
out.publicRefused = await failure(new Parse.File('public.bin', payload).save());

// Anonymous users are refused too. (In Node the SDK keeps no current user: the
// session token is passed to every call.)
const anon = await Parse.AnonymousUtils.logIn();
out.anonymousRefused = await failure(
  new Parse.File('anon.bin', payload).save({ sessionToken: anon.getSessionToken() }),
);

const username = `sdk-${randomUUID()}`;
const user = await Parse.User.signUp(username, 'sdk-password-1');
const as = { sessionToken: user.getSessionToken() };

// A Buffer: sent raw (binary body, keys in headers).
const raw = new Parse.File('photo.png', payload, 'image/png');
await raw.save(as);
out.raw = { name: raw.name(), url: raw.url() };

// A Buffer with metadata and tags: the SDK falls back to the JSON form (base64 + fileData).
const withData = new Parse.File('notes.bin', payload, 'application/octet-stream');
withData.setMetadata({ owner: 'sdk', pages: 3 });
withData.setTags({ kind: 'test' });
await withData.save(as);
out.json = { name: withData.name(), url: withData.url() };

// A base64 source and a byte array: the JSON form as well.
const fromBase64 = new Parse.File('small.txt', { base64: Buffer.from('hello from base64').toString('base64') });
await fromBase64.save(as);
out.base64 = { name: fromBase64.name(), url: fromBase64.url() };
const fromBytes = new Parse.File('bytes.dat', [61, 170, 236, 120]);
await fromBytes.save(as);
out.bytes = { name: fromBytes.name(), url: fromBytes.url(), data: await fromBytes.getData() };

// HTML is refused for a non-master caller.
out.htmlRefused = await failure(new Parse.File('page.html', Buffer.from('<p>x</p>'), 'text/html').save(as));

// Referenced from an object, read back through a query (the class is made with the
// master key: client class creation is off by default).
const schema = new Parse.Schema('FileDoc');
schema.addFile('attachment');
await schema.save().catch(() => null);
const doc = new Parse.Object('FileDoc');
doc.set('attachment', raw);
await doc.save(null, as);
const again = await new Parse.Query('FileDoc').get(doc.id, as);
out.object = { name: again.get('attachment').name(), url: again.get('attachment').url() };

// Deleting needs the master key (the SDK sends it for destroy()).
const doomed = new Parse.File('doomed.bin', Buffer.from('to be deleted'));
await doomed.save(as);
out.deleted = { name: doomed.name() };
await doomed.destroy({ useMasterKey: true });
out.deleteAgain = await failure(doomed.destroy({ useMasterKey: true }));

process.stdout.write(JSON.stringify(out));
