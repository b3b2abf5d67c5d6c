// Shared setup of the SDK suite: the Parse SDK pointed at the live server, classes
// created through Parse.Schema (client class creation is off in conformance mode),
// and a raw REST helper for what the SDK cannot express.
import assert from 'node:assert/strict';
import Parse from 'parse/node';

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the suite through tests/live/run_live.py`);
  }
  return value;
}

export const SERVER_URL = required('PARSE_SERVER_URL');
export const APP_ID = required('PARSE_APP_ID');
export const JAVASCRIPT_KEY = required('PARSE_JAVASCRIPT_KEY');
export const REST_KEY = required('PARSE_REST_KEY');
export const MASTER_KEY = required('PARSE_MASTER_KEY');

Parse.initialize(APP_ID, JAVASCRIPT_KEY);
Parse.serverURL = SERVER_URL;
// Known to the SDK, but only sent for Parse.Schema and calls with useMasterKey.
Parse.masterKey = MASTER_KEY;

export { Parse };
export const MASTER = { useMasterKey: true };

/** Drop `className` if it exists (purging its objects) and create it with `fields`. */
export async function freshClass(className, fields = {}, extra = {}) {
  await dropClass(className);
  const schema = new Parse.Schema(className);
  for (const [name, spec] of Object.entries(fields)) {
    const { type, ...options } = typeof spec === 'string' ? { type: spec } : spec;
    schema.addField(name, type, options);
  }
  if (extra.classLevelPermissions) {
    schema.setCLP(extra.classLevelPermissions);
  }
  if (extra.indexes) {
    for (const [name, index] of Object.entries(extra.indexes)) {
      schema.addIndex(name, index);
    }
  }
  return schema.save();
}

export async function dropClass(className) {
  const schema = new Parse.Schema(className);
  try {
    await schema.get();
  } catch (error) {
    if (error.code === Parse.Error.INVALID_CLASS_NAME) {
      return;
    }
    throw error;
  }
  await schema.purge();
  await schema.delete();
}

/**
 * A raw REST call with X-Parse headers. `keys` is 'rest' (default), 'master',
 * 'javascript', 'app-only' (the application id alone) or 'none'; the answer is
 * `{status, headers, body}` with the JSON body.
 */
export async function rest(method, path, { body, query, keys = 'rest', headers = {} } = {}) {
  const url = new URL(`${SERVER_URL}/${path.replace(/^\//, '')}`);
  for (const [key, value] of Object.entries(query || {})) {
    url.searchParams.set(key, typeof value === 'string' ? value : JSON.stringify(value));
  }
  const sent = { 'X-Parse-Application-Id': APP_ID, ...headers };
  if (keys === 'rest') sent['X-Parse-REST-API-Key'] = REST_KEY;
  if (keys === 'master') sent['X-Parse-Master-Key'] = MASTER_KEY;
  if (keys === 'javascript') sent['X-Parse-Javascript-Key'] = JAVASCRIPT_KEY;
  if (keys === 'none') delete sent['X-Parse-Application-Id'];
  let payload = body;
  if (body !== undefined && typeof body !== 'string') {
    payload = JSON.stringify(body);
    sent['Content-Type'] ??= 'application/json';
  }
  const response = await fetch(url, { method, headers: sent, body: payload });
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = text;
  }
  return { status: response.status, headers: response.headers, body: parsed };
}

/** Awaits `promise`, expecting it to fail with a Parse.Error of `code`. */
export async function rejectsWithCode(promise, code, message) {
  await assert.rejects(promise, (error) => {
    assert.ok(error instanceof Parse.Error, `expected a Parse.Error, got ${error}`);
    assert.equal(error.code, code, `code of "${error.message}"`);
    if (message !== undefined) {
      assert.match(error.message, message);
    }
    return true;
  });
}

/** Sorted ids of `objects`, or of `labels` mapped through `ids`. */
export function idsOf(objects) {
  return objects.map((o) => o.id).sort();
}
