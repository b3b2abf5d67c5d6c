// Parse.Config: clients read it, the master key writes it; master-only parameters
// stay hidden from clients.
import assert from 'node:assert/strict';
import { test } from 'node:test';

import { MASTER, Parse, rest } from '../lib/setup.mjs';

test('save with the master key, then get as a client', async () => {
  const when = new Date('2030-01-02T03:04:05.006Z');
  const saved = await Parse.Config.save({
    sdkWelcome: 'hello',
    sdkLimit: 25,
    sdkFlags: { beta: true, list: [1, 2] },
    sdkLaunch: when,
    sdkPlace: new Parse.GeoPoint(10, 20),
  });
  assert.equal(saved.get('sdkWelcome'), 'hello');
  const config = await Parse.Config.get();
  assert.equal(config.get('sdkWelcome'), 'hello');
  assert.equal(config.get('sdkLimit'), 25);
  assert.deepEqual(config.get('sdkFlags'), { beta: true, list: [1, 2] });
  assert.ok(config.get('sdkLaunch') instanceof Date);
  assert.equal(config.get('sdkLaunch').toISOString(), when.toISOString());
  assert.ok(config.get('sdkPlace') instanceof Parse.GeoPoint);
  assert.equal(config.get('sdkPlace').latitude, 10);
  assert.equal(Parse.Config.current().get('sdkWelcome'), 'hello', 'get() caches the config');
});

test('a later save changes only the named parameters', async () => {
  await Parse.Config.save({ sdkKeep: 'kept', sdkChange: 1 });
  await Parse.Config.save({ sdkChange: 2 });
  const config = await Parse.Config.get();
  assert.equal(config.get('sdkKeep'), 'kept');
  assert.equal(config.get('sdkChange'), 2);
});

test('master-only parameters are hidden from clients', async () => {
  await Parse.Config.save({ sdkPublic: 'p', sdkSecret: 's' }, { sdkSecret: true });
  const client = await Parse.Config.get();
  assert.equal(client.get('sdkPublic'), 'p');
  assert.equal(client.get('sdkSecret'), undefined);
  const master = await Parse.Config.get(MASTER);
  assert.equal(master.get('sdkSecret'), 's');
  const raw = await rest('GET', 'config', { keys: 'master' });
  assert.equal(raw.body.masterKeyOnly.sdkSecret, true);
  assert.equal(raw.body.params.sdkSecret, 's');
});

test('a parameter is deleted with {__op: "Delete"}', async () => {
  await Parse.Config.save({ sdkGone: 'soon' });
  const response = await rest('PUT', 'config', {
    keys: 'master',
    body: { params: { sdkGone: { __op: 'Delete' } } },
  });
  assert.deepEqual(response.body, { result: true });
  assert.equal((await Parse.Config.get()).get('sdkGone'), undefined);
});

test('clients cannot write the config', async () => {
  const response = await rest('PUT', 'config', { body: { params: { sdkHack: 1 } } });
  assert.equal(response.status, 403);
  assert.equal(typeof response.body.error, 'string');
  assert.equal((await Parse.Config.get()).get('sdkHack'), undefined);
});
