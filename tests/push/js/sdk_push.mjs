// The Parse JS SDK (npm `parse`, from tests/sdk/node_modules) registering installations,
// changing their channels and sending pushes to a live backend_kit server. Prints one
// JSON document with what the Python test checks.
//
// Env: PARSE_SERVER_URL, PARSE_APP_ID, PARSE_JAVASCRIPT_KEY, PARSE_MASTER_KEY, SDK_DIR,
//      DEVICES (JSON list of {installationId, deviceType, deviceToken, channels}).
import { createRequire } from 'node:module';

const require = createRequire(`${process.env.SDK_DIR}/package.json`);
const Parse = require('parse/node');

Parse.initialize(process.env.PARSE_APP_ID, process.env.PARSE_JAVASCRIPT_KEY, process.env.PARSE_MASTER_KEY);
Parse.serverURL = process.env.PARSE_SERVER_URL;

const devices = JSON.parse(process.env.DEVICES);
const out = { saved: {} };

// Each device saves its installation the way an app does, without the master key.
const byName = {};
for (const device of devices) {
  const installation = new Parse.Installation();
  installation.set(device);
  await installation.save();
  byName[device.installationId] = installation;
  out.saved[device.installationId] = installation.id;
}

// Saving again with the same installationId updates that installation.
const again = new Parse.Installation();
again.set({ installationId: devices[0].installationId, deviceType: devices[0].deviceType, appVersion: '2.0' });
await again.save();
out.againId = again.id ?? null;

// Channels change through the SDK's array operations (PUT with AddUnique / Remove).
const [first, second] = devices.map(d => byName[d.installationId]);
first.addUnique('channels', 'sports');
await first.save();
second.remove('channels', 'sports');
await second.save();

const all = await new Parse.Query(Parse.Installation).ascending('installationId').find({ useMasterKey: true });
out.installations = all.map(i => ({
  objectId: i.id,
  installationId: i.get('installationId'),
  channels: i.get('channels'),
  appVersion: i.get('appVersion') ?? null,
}));

// Clients may not list installations.
try {
  await new Parse.Query(Parse.Installation).find();
  out.clientFind = null;
} catch (e) {
  out.clientFind = { code: e.code, message: e.message };
}

async function finished(id) {
  for (let i = 0; i < 600; i++) {
    const status = await Parse.Push.getPushStatus(id, { useMasterKey: true });
    if (['succeeded', 'failed'].includes(status.get('status'))) return status.toJSON();
    await new Promise(resolve => setTimeout(resolve, 100));
  }
  throw new Error(`push ${id} did not finish`);
}

const channelId = await Parse.Push.send(
  { channels: ['sports'], data: { alert: 'Goal!', badge: 'Increment' } },
  { useMasterKey: true },
);
out.channelPush = await finished(channelId);

const androids = new Parse.Query(Parse.Installation).equalTo('deviceType', 'android');
const whereId = await Parse.Push.send({ where: androids, data: { alert: 'Android only' } }, { useMasterKey: true });
out.wherePush = await finished(whereId);

process.stdout.write(JSON.stringify(out));
