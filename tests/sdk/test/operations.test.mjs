// Field operations (increment, add, addUnique, remove, unset, relations): the
// server applies them to the stored value, and answers with what it computed.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { Parse, freshClass, rejectsWithCode, rest } from '../lib/setup.mjs';

const COUNTER = 'SdkCounter';
const TARGET = 'SdkOpTarget';

before(async () => {
  await freshClass(TARGET, { label: 'String' });
  await freshClass(COUNTER, {
    hits: 'Number',
    list: 'Array',
    name: 'String',
    meta: 'Object',
    members: { type: 'Relation', targetClass: TARGET },
  });
});

const fresh = (id) => new Parse.Query(COUNTER).get(id);

describe('increment', () => {
  test('increments from two stale copies add up on the server', async () => {
    const counter = await new Parse.Object(COUNTER).save({ hits: 10 });
    const other = Parse.Object.extend(COUNTER).createWithoutData(counter.id);
    counter.increment('hits', 5);
    other.increment('hits', -2);
    await counter.save();
    await other.save();
    assert.equal((await fresh(counter.id)).get('hits'), 13);
    // the second writer learns the server's result, not its local guess
    assert.equal(other.get('hits'), 13);
  });

  test('increment of a missing key starts from zero', async () => {
    const counter = await new Parse.Object(COUNTER).save({ name: 'empty' });
    counter.increment('hits');
    await counter.save();
    assert.equal(counter.get('hits'), 1);
    assert.equal((await fresh(counter.id)).get('hits'), 1);
  });

  test('decrement and fractional amounts', async () => {
    const counter = await new Parse.Object(COUNTER).save({ hits: 1 });
    counter.decrement('hits', 0.5);
    await counter.save();
    assert.equal((await fresh(counter.id)).get('hits'), 0.5);
  });

  test('the REST answer carries the computed value', async () => {
    const counter = await new Parse.Object(COUNTER).save({ hits: 41 });
    const response = await rest('PUT', `classes/${COUNTER}/${counter.id}`, {
      body: { hits: { __op: 'Increment', amount: 1 } },
    });
    assert.equal(response.status, 200);
    assert.equal(response.body.hits, 42);
    assert.match(response.body.updatedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  });

  test('incrementing a string fails with 111', async () => {
    const counter = await new Parse.Object(COUNTER).save({ name: 'text' });
    // a stale copy: the SDK would refuse locally if it knew the value
    const stale = Parse.Object.extend(COUNTER).createWithoutData(counter.id);
    stale.increment('name');
    await rejectsWithCode(stale.save(), Parse.Error.INCORRECT_TYPE);
    assert.equal((await fresh(counter.id)).get('name'), 'text');
  });

  test('increment on a key inside an object (dot notation)', async () => {
    const counter = await new Parse.Object(COUNTER).save({ meta: { visits: 1, tag: 'a' } });
    counter.increment('meta.visits', 2);
    await counter.save();
    assert.deepEqual((await fresh(counter.id)).get('meta'), { visits: 3, tag: 'a' });
  });
});

describe('arrays', () => {
  test('add appends, keeping duplicates', async () => {
    const item = await new Parse.Object(COUNTER).save({ list: ['a'] });
    const stale = Parse.Object.extend(COUNTER).createWithoutData(item.id);
    stale.add('list', 'b');
    stale.addAll('list', ['a', 'c']);
    await stale.save();
    assert.deepEqual((await fresh(item.id)).get('list'), ['a', 'b', 'a', 'c']);
  });

  test('addUnique only adds missing values', async () => {
    const item = await new Parse.Object(COUNTER).save({ list: ['a', 'b'] });
    const stale = Parse.Object.extend(COUNTER).createWithoutData(item.id);
    stale.addAllUnique('list', ['b', 'c', 'c', 'd']);
    await stale.save();
    assert.deepEqual((await fresh(item.id)).get('list'), ['a', 'b', 'c', 'd']);
  });

  test('addUnique compares objects and pointers by value', async () => {
    const target = await new Parse.Object(TARGET).save({ label: 't' });
    const item = await new Parse.Object(COUNTER).save({ list: [{ k: 1 }, target] });
    const stale = Parse.Object.extend(COUNTER).createWithoutData(item.id);
    stale.addUnique('list', { k: 1 });
    stale.addUnique('list', Parse.Object.extend(TARGET).createWithoutData(target.id));
    await stale.save();
    const list = (await fresh(item.id)).get('list');
    assert.equal(list.length, 2);
  });

  test('remove drops every occurrence', async () => {
    const item = await new Parse.Object(COUNTER).save({ list: ['a', 'b', 'a', 'c', 1] });
    const stale = Parse.Object.extend(COUNTER).createWithoutData(item.id);
    stale.removeAll('list', ['a', 1, 'zzz']);
    await stale.save();
    assert.deepEqual((await fresh(item.id)).get('list'), ['b', 'c']);
  });

  test('add on a missing key creates the array', async () => {
    const item = await new Parse.Object(COUNTER).save({ name: 'no list' });
    const stale = Parse.Object.extend(COUNTER).createWithoutData(item.id);
    stale.add('list', 'first');
    await stale.save();
    assert.deepEqual((await fresh(item.id)).get('list'), ['first']);
  });

  test('the REST answer carries the computed array', async () => {
    const item = await new Parse.Object(COUNTER).save({ list: ['x'] });
    const response = await rest('PUT', `classes/${COUNTER}/${item.id}`, {
      body: { list: { __op: 'AddUnique', objects: ['x', 'y'] } },
    });
    assert.equal(response.status, 200);
    assert.deepEqual(response.body.list, ['x', 'y']);
  });

  test('add on a non-array fails with 111', async () => {
    const item = await new Parse.Object(COUNTER).save({ name: 'scalar' });
    const stale = Parse.Object.extend(COUNTER).createWithoutData(item.id);
    stale.add('name', 'x');
    await rejectsWithCode(stale.save(), Parse.Error.INCORRECT_TYPE);
    assert.equal((await fresh(item.id)).get('name'), 'scalar');
  });
});

describe('unset and relations', () => {
  test('unset removes the key; the object keeps its other keys', async () => {
    const item = await new Parse.Object(COUNTER).save({ name: 'n', hits: 3 });
    const stale = Parse.Object.extend(COUNTER).createWithoutData(item.id);
    stale.unset('hits');
    await stale.save();
    const back = await fresh(item.id);
    assert.equal(back.has('hits'), false);
    assert.equal(back.get('name'), 'n');
  });

  test('relation add and remove', async () => {
    const [t1, t2, t3] = await Parse.Object.saveAll(
      ['one', 'two', 'three'].map((label) => new Parse.Object(TARGET).set('label', label)),
    );
    const item = await new Parse.Object(COUNTER).save({ name: 'group' });
    item.relation('members').add([t1, t2, t3]);
    await item.save();
    item.relation('members').remove(t2);
    await item.save();
    const members = await item.relation('members').query().ascending('label').find();
    assert.deepEqual(
      members.map((m) => m.get('label')),
      ['one', 'three'],
    );
    const back = await fresh(item.id);
    assert.equal(back.get('members').targetClassName, TARGET);
  });

  test('several operations in one save', async () => {
    const item = await new Parse.Object(COUNTER).save({ hits: 1, list: ['a'], name: 'multi' });
    const stale = Parse.Object.extend(COUNTER).createWithoutData(item.id);
    stale.increment('hits', 9);
    stale.add('list', 'b');
    stale.unset('name');
    await stale.save();
    const back = await fresh(item.id);
    assert.equal(back.get('hits'), 10);
    assert.deepEqual(back.get('list'), ['a', 'b']);
    assert.equal(back.has('name'), false);
  });
});
