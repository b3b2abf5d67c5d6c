// Cloud code of conformance mode (example_project/cloud_conformance.py) through the
// SDK: Parse.Cloud.run for every function, the triggers through ordinary saves,
// queries and deletes, and the job through Parse.Cloud.startJob / getJobStatus.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { eventually, unique } from '../lib/accounts.mjs';
import { MASTER, Parse, freshClass, idsOf, rejectsWithCode, rest } from '../lib/setup.mjs';

const SCRIPT_FAILED = Parse.Error.SCRIPT_FAILED; // 141
const VALIDATION_ERROR = Parse.Error.VALIDATION_ERROR; // 142

let user; // {id, username, token}

before(async () => {
  await Promise.all([
    freshClass('CCValidated', { name: 'String', score: 'Number' }),
    freshClass('CCModified', { name: 'String', normalized: 'String', saves: 'Number' }),
    freshClass('CCAfterSave', { marker: 'String' }),
    freshClass('CCAudit', {
      sourceId: 'String',
      marker: 'String',
      isNew: 'Boolean',
      deleted: 'Boolean',
    }),
    freshClass('CCNoDelete', { locked: 'Boolean', marker: 'String' }),
    freshClass('CCHidden', { hidden: 'Boolean', label: 'String' }),
    freshClass('CCAfterFind', { label: 'String' }),
    freshClass('CCJobRun', { marker: 'String' }),
    freshClass('CCPointee', { label: 'String' }),
  ]);
  const username = unique('cloud');
  const answer = await rest('POST', 'users', { body: { username, password: 'cloud secret' } });
  assert.equal(answer.status, 201);
  user = { id: answer.body.objectId, username, token: answer.body.sessionToken };
});

describe('functions', () => {
  test('hello greets the name, or the world', async () => {
    assert.equal(await Parse.Cloud.run('hello'), 'Hello world');
    assert.equal(await Parse.Cloud.run('hello', { name: 'Ada' }), 'Hello Ada');
  });

  test('echo round-trips Parse types', async () => {
    const pointee = await new Parse.Object('CCPointee').save({ label: 'target' }, MASTER);
    const when = new Date('2024-02-29T12:34:56.789Z');
    const params = {
      text: 'x',
      number: 3.5,
      flag: true,
      nothing: null,
      when,
      where: new Parse.GeoPoint(40.5, -73.25),
      pointer: pointee.toPointer(),
      nested: { list: [1, 'two', when, { deep: new Parse.GeoPoint(1, 2) }] },
    };
    const back = await Parse.Cloud.run('echo', params);
    assert.equal(back.text, 'x');
    assert.equal(back.number, 3.5);
    assert.equal(back.flag, true);
    assert.equal(back.nothing, null);
    assert.ok(back.when instanceof Date);
    assert.equal(back.when.toISOString(), when.toISOString());
    assert.ok(back.where instanceof Parse.GeoPoint);
    assert.deepEqual([back.where.latitude, back.where.longitude], [40.5, -73.25]);
    assert.ok(back.pointer instanceof Parse.Object);
    assert.equal(back.pointer.className, 'CCPointee');
    assert.equal(back.pointer.id, pointee.id);
    assert.equal(back.nested.list[0], 1);
    assert.equal(back.nested.list[1], 'two');
    assert.equal(back.nested.list[2].toISOString(), when.toISOString());
    assert.ok(back.nested.list[3].deep instanceof Parse.GeoPoint);
  });

  test('echo answers in the same wire encoding', async () => {
    const wire = {
      when: { __type: 'Date', iso: '2024-01-02T03:04:05.006Z' },
      where: { __type: 'GeoPoint', latitude: 1.5, longitude: 2.5 },
      pointer: { __type: 'Pointer', className: 'CCPointee', objectId: 'abcdefghij' },
    };
    const answer = await rest('POST', 'functions/echo', { body: wire });
    assert.equal(answer.status, 200);
    assert.deepEqual(answer.body, { result: wire });
  });

  test('whoami tells the caller', async () => {
    assert.deepEqual(await Parse.Cloud.run('whoami'), { userId: null, master: false });
    assert.deepEqual(await Parse.Cloud.run('whoami', {}, MASTER), { userId: null, master: true });
    assert.deepEqual(await Parse.Cloud.run('whoami', {}, { sessionToken: user.token }), {
      userId: user.id,
      master: false,
    });
  });

  test('a plain error and a string failure become 141 with their message', async () => {
    await rejectsWithCode(Parse.Cloud.run('throwPlainError'), SCRIPT_FAILED, /^plain failure$/);
    await rejectsWithCode(Parse.Cloud.run('throwString'), SCRIPT_FAILED, /^string failure$/);
  });

  test('a Parse error keeps its code and message', async () => {
    await rejectsWithCode(
      Parse.Cloud.run('throwParseError'),
      Parse.Error.OPERATION_FORBIDDEN,
      /^custom failure$/,
    );
    await rejectsWithCode(
      Parse.Cloud.run('throwParseError', { code: 3001, message: 'app specific' }),
      3001,
      /^app specific$/,
    );
  });

  test('requireUser needs a user', async () => {
    await rejectsWithCode(
      Parse.Cloud.run('requireUser'),
      VALIDATION_ERROR,
      /^Validation failed\. Please login to continue\.$/,
    );
    const answer = await Parse.Cloud.run('requireUser', {}, { sessionToken: user.token });
    assert.equal(answer, `ok ${user.username}`);
  });

  test('masterOnly needs the master key', async () => {
    await rejectsWithCode(
      Parse.Cloud.run('masterOnly', {}, { sessionToken: user.token }),
      VALIDATION_ERROR,
      /^Validation failed\. Master key is required to complete this request\.$/,
    );
    await rejectsWithCode(Parse.Cloud.run('masterOnly'), VALIDATION_ERROR);
    assert.equal(await Parse.Cloud.run('masterOnly', {}, MASTER), 'master ok');
  });

  test('mailbox is master-only and lists the mails of an address', async () => {
    assert.deepEqual(await Parse.Cloud.run('mailbox', { email: 'nobody@example.com' }, MASTER), []);
    await rejectsWithCode(
      Parse.Cloud.run('mailbox', { email: 'nobody@example.com' }),
      VALIDATION_ERROR,
      /Master key is required/,
    );
  });

  test('an unknown function fails with 141', async () => {
    await rejectsWithCode(
      Parse.Cloud.run('noSuchFunction'),
      SCRIPT_FAILED,
      /^Invalid function: "noSuchFunction"$/,
    );
  });
});

describe('triggers', () => {
  test('CCValidated: a field validator refuses negative scores (142)', async () => {
    const message = /^score must be non-negative$/;
    await rejectsWithCode(
      new Parse.Object('CCValidated').save({ name: 'neg', score: -1 }),
      VALIDATION_ERROR,
      message,
    );
    await rejectsWithCode(
      new Parse.Object('CCValidated').save({ name: 'neg', score: -1 }, MASTER),
      VALIDATION_ERROR,
      message,
    );
    const ok = await new Parse.Object('CCValidated').save({ name: 'fine', score: 2 });
    ok.set('score', -5);
    await rejectsWithCode(ok.save(), VALIDATION_ERROR, message);
    const stored = await new Parse.Query('CCValidated').get(ok.id);
    assert.equal(stored.get('score'), 2);
    const none = await new Parse.Query('CCValidated').equalTo('name', 'neg').count(MASTER);
    assert.equal(none, 0);
  });

  test('CCValidated: a Parse error (119) and a string rejection (141)', async () => {
    await rejectsWithCode(
      new Parse.Object('CCValidated').save({ name: 'forbidden', score: 1 }),
      Parse.Error.OPERATION_FORBIDDEN,
      /^name is forbidden$/,
    );
    await rejectsWithCode(
      new Parse.Object('CCValidated').save({ name: 'string-reject', score: 1 }),
      SCRIPT_FAILED,
      /^string rejection$/,
    );
    const obj = await new Parse.Object('CCValidated').save({ name: 'renamed', score: 1 });
    obj.set('name', 'forbidden');
    await rejectsWithCode(obj.save(), Parse.Error.OPERATION_FORBIDDEN, /^name is forbidden$/);
    const count = await new Parse.Query('CCValidated')
      .containedIn('name', ['forbidden', 'string-reject'])
      .count(MASTER);
    assert.equal(count, 0);
  });

  test('CCModified: the values set by the trigger come back in the save response', async () => {
    const obj = new Parse.Object('CCModified');
    await obj.save({ name: 'MiXeD Case' });
    // read from the save response: the object is not fetched
    assert.equal(obj.get('normalized'), 'mixed case');
    assert.equal(obj.get('saves'), 1);
    obj.set('name', 'SECOND');
    await obj.save();
    assert.equal(obj.get('normalized'), 'second');
    assert.equal(obj.get('saves'), 2);
    const stored = await new Parse.Query('CCModified').get(obj.id);
    assert.equal(stored.get('normalized'), 'second');
    assert.equal(stored.get('saves'), 2);
  });

  test('CCAfterSave: the after-save trigger records an audit', async () => {
    const marker = unique('after');
    const obj = await new Parse.Object('CCAfterSave').save({ marker });
    const audits = () => new Parse.Query('CCAudit').equalTo('marker', marker).find(MASTER);
    const [created] = await eventually(async () => {
      const found = await audits();
      return found.length ? found : null;
    }, { what: 'the after-save audit' });
    assert.equal(created.get('sourceId'), obj.id);
    assert.equal(created.get('isNew'), true);
    obj.set('marker', marker); // an update, keeping the marker
    await obj.save();
    const both = await eventually(async () => {
      const found = await audits();
      return found.length === 2 ? found : null;
    }, { what: 'the audit of the update' });
    assert.deepEqual(both.map((a) => a.get('isNew')).sort(), [false, true]);
  });

  test('CCNoDelete: a locked object is not deleted, even with the master key', async () => {
    const marker = unique('locked');
    const locked = await new Parse.Object('CCNoDelete').save({ locked: true, marker });
    await rejectsWithCode(locked.destroy(), SCRIPT_FAILED, /^locked objects cannot be deleted$/);
    await rejectsWithCode(
      locked.destroy(MASTER),
      SCRIPT_FAILED,
      /^locked objects cannot be deleted$/,
    );
    assert.equal((await new Parse.Query('CCNoDelete').get(locked.id)).id, locked.id);

    const unlocked = await new Parse.Object('CCNoDelete').save({ locked: false, marker });
    await unlocked.destroy();
    await rejectsWithCode(
      new Parse.Query('CCNoDelete').get(unlocked.id),
      Parse.Error.OBJECT_NOT_FOUND,
    );
    const [audit] = await eventually(async () => {
      const found = await new Parse.Query('CCAudit').equalTo('marker', marker).find(MASTER);
      return found.length ? found : null;
    }, { what: 'the after-delete audit' });
    assert.equal(audit.get('sourceId'), unlocked.id);
    assert.equal(audit.get('deleted'), true);
  });

  test('CCHidden: hidden objects are invisible without the master key', async () => {
    const label = unique('hidden');
    const shown = await new Parse.Object('CCHidden').save({ hidden: false, label });
    const hidden = await new Parse.Object('CCHidden').save({ hidden: true, label });
    const query = () => new Parse.Query('CCHidden').equalTo('label', label);
    assert.deepEqual(idsOf(await query().find()), [shown.id]);
    assert.equal(await query().count(), 1);
    assert.deepEqual(idsOf(await query().find({ sessionToken: user.token })), [shown.id]);
    await rejectsWithCode(new Parse.Query('CCHidden').get(hidden.id), Parse.Error.OBJECT_NOT_FOUND);
    assert.equal((await new Parse.Query('CCHidden').get(shown.id)).id, shown.id);
    assert.deepEqual(idsOf(await query().find(MASTER)), [shown.id, hidden.id].sort());
    assert.equal(await query().count(MASTER), 2);
    assert.equal((await new Parse.Query('CCHidden').get(hidden.id, MASTER)).id, hidden.id);
  });

  test('CCAfterFind: found objects are decorated, the decoration is not stored', async () => {
    const label = unique('find');
    const obj = await new Parse.Object('CCAfterFind').save({ label });
    const found = await new Parse.Query('CCAfterFind').equalTo('label', label).find();
    assert.deepEqual(idsOf(found), [obj.id]);
    assert.equal(found[0].get('decorated'), true);
    const got = await new Parse.Query('CCAfterFind').get(obj.id);
    assert.equal(got.get('decorated'), true);
    assert.equal(obj.get('decorated'), undefined); // the save response is not decorated
    const stored = await new Parse.Query('CCAfterFind')
      .equalTo('label', label)
      .equalTo('decorated', true)
      .count(MASTER);
    assert.equal(stored, 0);
  });
});

describe('jobs', () => {
  test('startJob runs conformanceJob; its status ends as succeeded', async () => {
    const marker = unique('job');
    const statusId = await Parse.Cloud.startJob('conformanceJob', { marker });
    assert.equal(typeof statusId, 'string');
    assert.match(statusId, /^[A-Za-z0-9]{10}$/);
    const status = await eventually(async () => {
      const current = await Parse.Cloud.getJobStatus(statusId);
      assert.notEqual(current.get('status'), 'failed', current.get('message'));
      return current.get('status') === 'succeeded' ? current : null;
    }, { what: 'the job to succeed' });
    assert.equal(status.get('jobName'), 'conformanceJob');
    assert.equal(status.get('source'), 'api');
    assert.equal(status.get('message'), 'job done');
    assert.ok(status.get('finishedAt') instanceof Date);
    const runs = await new Parse.Query('CCJobRun').equalTo('marker', marker).find(MASTER);
    assert.equal(runs.length, 1);
  });

  test('the jobs are listed for the master key', async () => {
    const data = await Parse.Cloud.getJobsData();
    assert.ok(data.jobs.includes('conformanceJob'), JSON.stringify(data));
  });

  test('a job needs the master key', async () => {
    const controller = Parse.CoreManager.getCloudController();
    await assert.rejects(
      controller.startJob('conformanceJob', { marker: unique('nokey') }, {}),
      (error) => {
        assert.equal(error.message, 'Permission denied');
        return true;
      },
    );
    const raw = await rest('POST', 'jobs/conformanceJob', { body: {} });
    assert.equal(raw.status, 403);
    assert.equal(raw.body.error, 'Permission denied');
    assert.equal(raw.headers.get('x-parse-job-status-id'), null);
    await rejectsWithCode(
      new Parse.Query('_JobStatus').find({ sessionToken: user.token }),
      Parse.Error.OPERATION_FORBIDDEN,
    );
  });
});
