// POST /batch through saveAll/destroyAll, with and without `transaction: true`.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { Parse, SERVER_URL, freshClass, rest } from '../lib/setup.mjs';

const ROW = 'SdkBatchRow';
let runId = 0;

before(async () => {
  await freshClass(ROW, { run: 'Number', n: 'Number', label: 'String' });
});

/** `count` unsaved rows tagged with a run number of their own. */
function rows(count, extra = () => ({})) {
  runId += 1;
  const run = runId;
  const list = Array.from({ length: count }, (_, n) =>
    new Parse.Object(ROW).set({ run, n, ...extra(n) }),
  );
  return { run, list };
}

const countRun = (run) => new Parse.Query(ROW).equalTo('run', run).count();

describe('saveAll', () => {
  test('creates every object and assigns ids', async () => {
    const { run, list } = rows(5);
    await Parse.Object.saveAll(list);
    assert.ok(list.every((o) => typeof o.id === 'string' && o.createdAt instanceof Date));
    assert.equal(new Set(list.map((o) => o.id)).size, 5);
    assert.equal(await countRun(run), 5);
  });

  test('updates and creates in one call', async () => {
    const { run, list } = rows(2);
    await Parse.Object.saveAll(list);
    list[0].set('label', 'changed');
    list.push(new Parse.Object(ROW).set({ run, n: 2 }));
    await Parse.Object.saveAll(list);
    const found = await new Parse.Query(ROW).equalTo('run', run).ascending('n').find();
    assert.deepEqual(
      found.map((o) => o.get('label') ?? null),
      ['changed', null, null],
    );
  });

  test('batchSize splits the work into several requests', async () => {
    const { run, list } = rows(7);
    await Parse.Object.saveAll(list, { batchSize: 3 });
    assert.equal(await countRun(run), 7);
  });

  test('without a transaction the valid objects are saved', async () => {
    const { run, list } = rows(3, (n) => (n === 1 ? { label: 42 } : {}));
    await assert.rejects(Parse.Object.saveAll(list), (error) => {
      assert.equal(error.code, Parse.Error.INCORRECT_TYPE);
      return true;
    });
    assert.equal(await countRun(run), 2);
  });

  test('transaction: true saves all or nothing', async () => {
    const { run, list } = rows(4, (n) => (n === 3 ? { label: 42 } : {}));
    await assert.rejects(Parse.Object.saveAll(list, { transaction: true }), (error) => {
      // The SDK rejects with one Parse.Error per object of the failed batch request.
      const errors = Array.isArray(error) ? error : [error];
      for (const each of errors) {
        assert.ok(each instanceof Parse.Error, `${each}`);
        assert.match(each.message, /label/);
      }
      return true;
    });
    assert.equal(await countRun(run), 0);
    assert.ok(list.every((o) => o.id === undefined));
  });

  test('transaction: true with valid objects saves them all', async () => {
    const { run, list } = rows(4);
    await Parse.Object.saveAll(list, { transaction: true });
    assert.equal(await countRun(run), 4);
  });

  test('transaction: true rolls back updates too', async () => {
    const { run, list } = rows(2);
    await Parse.Object.saveAll(list);
    list[0].set('label', 'should roll back');
    list[1].set('n', 'not a number');
    await assert.rejects(Parse.Object.saveAll(list, { transaction: true }));
    const first = await new Parse.Query(ROW).get(list[0].id);
    assert.equal(first.has('label'), false);
    assert.equal(await countRun(run), 2);
  });
});

describe('destroyAll', () => {
  test('destroys every object', async () => {
    const { run, list } = rows(4);
    await Parse.Object.saveAll(list);
    await Parse.Object.destroyAll(list);
    assert.equal(await countRun(run), 0);
  });

  test('a missing object is reported, the others are destroyed', async () => {
    const { run, list } = rows(3);
    await Parse.Object.saveAll(list);
    await list[1].destroy();
    await assert.rejects(Parse.Object.destroyAll(list), (error) => {
      assert.equal(error.code, Parse.Error.AGGREGATE_ERROR);
      assert.equal(error.errors.length, 1);
      assert.equal(error.errors[0].code, Parse.Error.OBJECT_NOT_FOUND);
      assert.equal(error.errors[0].object.id, list[1].id);
      return true;
    });
    assert.equal(await countRun(run), 0);
  });

  test('transaction: true destroys nothing when one delete fails', async () => {
    const { run, list } = rows(3);
    await Parse.Object.saveAll(list);
    const ghost = Parse.Object.extend(ROW).createWithoutData('ghostGhost');
    await assert.rejects(Parse.Object.destroyAll([...list, ghost], { transaction: true }));
    assert.equal(await countRun(run), 3);
  });
});

describe('raw /batch', () => {
  const path = new URL(SERVER_URL).pathname;

  test('mixes methods and answers each in order', async () => {
    const created = await rest('POST', 'batch', {
      body: {
        requests: [
          { method: 'POST', path: `${path}/classes/${ROW}`, body: { label: 'raw', n: 1 } },
          { method: 'POST', path: `${path}/classes/${ROW}`, body: { label: 'raw', n: 'bad' } },
        ],
      },
    });
    assert.equal(created.status, 200);
    const [ok, failed] = created.body;
    assert.match(ok.success.objectId, /^[A-Za-z0-9]{10}$/);
    assert.equal(failed.error.code, Parse.Error.INCORRECT_TYPE);
    const id = ok.success.objectId;
    const mixed = await rest('POST', 'batch', {
      body: {
        requests: [
          {
            method: 'PUT',
            path: `${path}/classes/${ROW}/${id}`,
            body: { n: { __op: 'Increment' } },
          },
          { method: 'GET', path: `${path}/classes/${ROW}/${id}` },
          { method: 'DELETE', path: `${path}/classes/${ROW}/${id}` },
        ],
      },
    });
    assert.equal(mixed.status, 200);
    assert.equal(mixed.body[0].success.n, 2);
    assert.equal(mixed.body[1].success.label, 'raw');
    assert.equal(mixed.body[1].success.n, 2);
    assert.deepEqual(mixed.body[2], { success: {} });
  });

  test('paths may be given with the full server URL', async () => {
    const response = await rest('POST', 'batch', {
      body: {
        requests: [{ method: 'POST', path: `${SERVER_URL}/classes/${ROW}`, body: { n: 5 } }],
      },
    });
    assert.equal(response.status, 200);
    assert.ok(response.body[0].success.objectId);
  });

  test('requests must be an array', async () => {
    const response = await rest('POST', 'batch', { body: { requests: 'nope' } });
    assert.equal(response.status, 400);
    assert.equal(response.body.code, Parse.Error.INVALID_JSON);
  });
});
