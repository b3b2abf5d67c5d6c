// The request envelope and error answers, through raw fetch: keys, the JS SDK's
// text/plain tunnel, JSON query strings, and the Parse error codes of bad input.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import {
  APP_ID,
  JAVASCRIPT_KEY,
  MASTER_KEY,
  Parse,
  REST_KEY,
  SERVER_URL,
  freshClass,
  rest,
} from '../lib/setup.mjs';

const NOTE = 'SdkEnvNote';

before(async () => {
  await freshClass(NOTE, { text: 'String', rank: 'Number' });
  await Parse.Object.saveAll(
    [1, 2, 3].map((rank) => new Parse.Object(NOTE).set({ text: `note ${rank}`, rank })),
  );
});

/** POST `body` as text/plain, the way the JS SDK sends every request. */
async function tunnel(path, body) {
  const response = await fetch(`${SERVER_URL}/${path}`, {
    method: 'POST',
    headers: { 'Content-Type': 'text/plain' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, body: text ? JSON.parse(text) : null };
}

describe('keys', () => {
  test('a wrong application id is 403 {"error":"unauthorized"}', async () => {
    const response = await rest('GET', `classes/${NOTE}`, {
      headers: { 'X-Parse-Application-Id': 'not-the-app' },
    });
    assert.equal(response.status, 403);
    assert.deepEqual(response.body, { error: 'unauthorized' });
  });

  test('no application id at all is 403', async () => {
    const response = await rest('GET', `classes/${NOTE}`, { keys: 'none' });
    assert.equal(response.status, 403);
    assert.deepEqual(response.body, { error: 'unauthorized' });
  });

  test('the application id without a client key is 403', async () => {
    const response = await rest('GET', `classes/${NOTE}`, { keys: 'app-only' });
    assert.equal(response.status, 403);
    assert.deepEqual(response.body, { error: 'unauthorized' });
  });

  test('a wrong REST key or master key is 403', async () => {
    for (const header of ['X-Parse-REST-API-Key', 'X-Parse-Master-Key', 'X-Parse-Javascript-Key']) {
      const response = await rest('GET', `classes/${NOTE}`, {
        keys: 'app-only',
        headers: { [header]: 'wrong' },
      });
      assert.equal(response.status, 403, header);
      assert.deepEqual(response.body, { error: 'unauthorized' }, header);
    }
  });

  test('REST key, JavaScript key and master key are each enough', async () => {
    for (const keys of ['rest', 'javascript', 'master']) {
      const response = await rest('GET', `classes/${NOTE}`, { keys });
      assert.equal(response.status, 200, keys);
      assert.equal(response.body.results.length, 3, keys);
    }
  });

  test('health needs no keys', async () => {
    const response = await rest('GET', 'health', { keys: 'none' });
    assert.equal(response.status, 200);
    assert.equal(response.body.status, 'ok');
  });
});

describe('text/plain tunnel (_method)', () => {
  test('GET with where, order and limit in the body', async () => {
    const response = await tunnel(`classes/${NOTE}`, {
      _method: 'GET',
      _ApplicationId: APP_ID,
      _JavaScriptKey: JAVASCRIPT_KEY,
      _ClientVersion: 'js8.6.2',
      where: { rank: { $gte: 2 } },
      order: '-rank',
      limit: 1,
    });
    assert.equal(response.status, 200);
    assert.deepEqual(
      response.body.results.map((r) => r.rank),
      [3],
    );
  });

  test('POST creates, PUT updates, DELETE deletes', async () => {
    const keys = { _ApplicationId: APP_ID, _JavaScriptKey: JAVASCRIPT_KEY };
    const created = await tunnel(`classes/${NOTE}`, { ...keys, text: 'tunnelled', rank: 9 });
    assert.equal(created.status, 201);
    const id = created.body.objectId;
    assert.equal('_ApplicationId' in created.body, false);
    const updated = await tunnel(`classes/${NOTE}/${id}`, {
      ...keys,
      _method: 'PUT',
      rank: { __op: 'Increment', amount: 1 },
    });
    assert.equal(updated.status, 200);
    assert.equal(updated.body.rank, 10);
    const fetched = await tunnel(`classes/${NOTE}/${id}`, { ...keys, _method: 'GET' });
    assert.equal(fetched.body.text, 'tunnelled');
    assert.equal('_JavaScriptKey' in fetched.body, false, 'envelope keys are not stored');
    assert.equal('_ApplicationId' in fetched.body, false);
    const deleted = await tunnel(`classes/${NOTE}/${id}`, { ...keys, _method: 'DELETE' });
    assert.equal(deleted.status, 200);
    assert.deepEqual(deleted.body, {});
    const gone = await tunnel(`classes/${NOTE}/${id}`, { ...keys, _method: 'GET' });
    assert.equal(gone.status, 404);
    assert.equal(gone.body.code, Parse.Error.OBJECT_NOT_FOUND);
  });

  test('_MasterKey in the body acts as the master key', async () => {
    const response = await tunnel('schemas', {
      _method: 'GET',
      _ApplicationId: APP_ID,
      _MasterKey: MASTER_KEY,
    });
    assert.equal(response.status, 200);
    assert.ok(response.body.results.some((s) => s.className === NOTE));
  });

  test('a tunnelled request without a client key is 403', async () => {
    const response = await tunnel(`classes/${NOTE}`, { _method: 'GET', _ApplicationId: APP_ID });
    assert.equal(response.status, 403);
    assert.deepEqual(response.body, { error: 'unauthorized' });
  });

  test('a tunnelled request with a wrong application id is 403', async () => {
    const response = await tunnel(`classes/${NOTE}`, {
      _method: 'GET',
      _ApplicationId: 'nope',
      _JavaScriptKey: JAVASCRIPT_KEY,
    });
    assert.equal(response.status, 403);
    assert.deepEqual(response.body, { error: 'unauthorized' });
  });
});

describe('REST shapes', () => {
  test('create answers 201 with Location, objectId and createdAt', async () => {
    const response = await rest('POST', `classes/${NOTE}`, { body: { text: 'located', rank: 0 } });
    assert.equal(response.status, 201);
    assert.deepEqual(Object.keys(response.body).sort(), ['createdAt', 'objectId']);
    assert.equal(
      response.headers.get('location'),
      `${SERVER_URL}/classes/${NOTE}/${response.body.objectId}`,
    );
  });

  test('JSON in the query string: where, order, keys', async () => {
    const response = await rest('GET', `classes/${NOTE}`, {
      query: { where: { rank: { $in: [1, 3] } }, order: '-rank', keys: 'rank' },
    });
    assert.equal(response.status, 200);
    assert.deepEqual(
      response.body.results.map((r) => r.rank),
      [3, 1],
    );
    assert.equal('text' in response.body.results[0], false);
  });

  test('count=1&limit=0 answers only the count', async () => {
    const response = await rest('GET', `classes/${NOTE}`, {
      query: { where: { rank: { $gte: 1, $lte: 3 } }, count: 1, limit: 0 },
    });
    assert.deepEqual(response.body, { results: [], count: 3 });
  });

  test('CORS preflight allows the Parse headers', async () => {
    const response = await fetch(`${SERVER_URL}/classes/${NOTE}`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://app.example.com',
        'Access-Control-Request-Method': 'POST',
        'Access-Control-Request-Headers': 'X-Parse-Application-Id, Content-Type',
      },
    });
    assert.equal(response.status, 200);
    assert.ok(response.headers.get('access-control-allow-origin'));
    assert.match(response.headers.get('access-control-allow-headers'), /X-Parse-Application-Id/i);
  });
});

describe('errors', () => {
  test('malformed JSON is 107', async () => {
    const response = await rest('POST', `classes/${NOTE}`, {
      body: '{"text": "unterminated',
      headers: { 'Content-Type': 'application/json' },
    });
    assert.equal(response.status, 400);
    assert.equal(response.body.code, Parse.Error.INVALID_JSON);
    assert.equal(typeof response.body.error, 'string');
  });

  test('malformed JSON through the tunnel with keys in headers is 107', async () => {
    const response = await fetch(`${SERVER_URL}/classes/${NOTE}`, {
      method: 'POST',
      headers: {
        'Content-Type': 'text/plain',
        'X-Parse-Application-Id': APP_ID,
        'X-Parse-REST-API-Key': REST_KEY,
      },
      body: 'not json at all',
    });
    assert.equal(response.status, 400);
    assert.equal((await response.json()).code, Parse.Error.INVALID_JSON);
  });

  test('an invalid class name is 103', async () => {
    for (const name of ['1bad', 'bad-name', '_Private']) {
      const response = await rest('POST', `classes/${name}`, { keys: 'master', body: { a: 1 } });
      assert.equal(response.status, 400, name);
      assert.equal(response.body.code, Parse.Error.INVALID_CLASS_NAME, name);
    }
  });

  test('an unknown query parameter is 102', async () => {
    const response = await rest('GET', `classes/${NOTE}`, { query: { bogus: 1 } });
    assert.equal(response.status, 400);
    assert.equal(response.body.code, Parse.Error.INVALID_QUERY);
  });

  test('an unknown operator in where is 102', async () => {
    const response = await rest('GET', `classes/${NOTE}`, {
      query: { where: { rank: { $bogus: 1 } } },
    });
    assert.equal(response.status, 400);
    assert.equal(response.body.code, Parse.Error.INVALID_QUERY);
  });

  test('an invalid field name is 105', async () => {
    const response = await rest('POST', `classes/${NOTE}`, { body: { $bad: 1 } });
    assert.equal(response.status, 400);
    assert.equal(response.body.code, Parse.Error.INVALID_KEY_NAME);
  });

  test('a missing object is 404 with code 101', async () => {
    const response = await rest('GET', `classes/${NOTE}/doesNotExi`);
    assert.equal(response.status, 404);
    assert.equal(response.body.code, Parse.Error.OBJECT_NOT_FOUND);
  });

  test('an unknown route answers a Parse error, not an HTML page', async () => {
    const response = await rest('GET', 'no/such/route');
    assert.equal(response.status, 404);
    assert.equal(typeof response.body.code, 'number');
    assert.equal(typeof response.body.error, 'string');
  });

  test('a wrong type for a field is 111 and writes nothing', async () => {
    const response = await rest('POST', `classes/${NOTE}`, {
      body: { text: 'typed', rank: 'high' },
    });
    assert.equal(response.status, 400);
    assert.equal(response.body.code, Parse.Error.INCORRECT_TYPE);
    const found = await rest('GET', `classes/${NOTE}`, { query: { where: { text: 'typed' } } });
    assert.deepEqual(found.body.results, []);
  });
});
