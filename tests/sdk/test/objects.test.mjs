// Objects CRUD through Parse.Object: save, fetch, update, unset, dirty keys, destroy,
// and the Parse types round-tripping through the server.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { MASTER, Parse, freshClass, rejectsWithCode, rest } from '../lib/setup.mjs';

const ITEM = 'SdkItem';
const OWNER = 'SdkOwner';

before(async () => {
  await freshClass(OWNER, { label: 'String' });
  await freshClass(ITEM, {
    title: 'String',
    score: 'Number',
    done: 'Boolean',
    when: 'Date',
    tags: 'Array',
    meta: 'Object',
    where: 'GeoPoint',
    area: 'Polygon',
    blob: 'Bytes',
    owner: { type: 'Pointer', targetClass: OWNER },
    note: 'String',
  });
});

describe('create and fetch', () => {
  test('save assigns objectId, createdAt and updatedAt', async () => {
    const item = new Parse.Object(ITEM);
    item.set({ title: 'first', score: 3 });
    assert.equal(item.isNew(), true);
    await item.save();
    assert.match(item.id, /^[A-Za-z0-9]{10}$/);
    assert.ok(item.createdAt instanceof Date);
    assert.ok(item.updatedAt instanceof Date);
    assert.equal(item.createdAt.getTime(), item.updatedAt.getTime());
    assert.equal(item.isNew(), false);
  });

  test('fetch reads what another instance saved', async () => {
    const saved = await new Parse.Object(ITEM).save({ title: 'read me', score: 7, done: true });
    const copy = Parse.Object.extend(ITEM).createWithoutData(saved.id);
    await copy.fetch();
    assert.equal(copy.get('title'), 'read me');
    assert.equal(copy.get('score'), 7);
    assert.equal(copy.get('done'), true);
    assert.equal(copy.createdAt.toISOString(), saved.createdAt.toISOString());
  });

  test('query.get of a missing id fails with 101', async () => {
    await rejectsWithCode(new Parse.Query(ITEM).get('doesNotExi'), Parse.Error.OBJECT_NOT_FOUND);
  });

  test('every Parse type round-trips', async () => {
    const owner = await new Parse.Object(OWNER).save({ label: 'boss' });
    const when = new Date('2024-02-29T12:34:56.789Z');
    const item = await new Parse.Object(ITEM).save({
      title: 'types',
      when,
      tags: ['a', 1, true, null, { nested: ['x'] }],
      meta: { level: 2, deep: { list: [1, 2], on: false } },
      where: new Parse.GeoPoint(48.8566, 2.3522),
      area: new Parse.Polygon([
        [0, 0],
        [0, 1],
        [1, 1],
        [1, 0],
      ]),
      blob: { __type: 'Bytes', base64: 'aGVsbG8gd29ybGQ=' },
      owner,
    });
    const back = await new Parse.Query(ITEM).get(item.id);
    assert.equal(back.get('when').toISOString(), when.toISOString());
    assert.deepEqual(back.get('tags'), ['a', 1, true, null, { nested: ['x'] }]);
    assert.deepEqual(back.get('meta'), { level: 2, deep: { list: [1, 2], on: false } });
    assert.ok(back.get('where') instanceof Parse.GeoPoint);
    assert.equal(back.get('where').latitude, 48.8566);
    assert.equal(back.get('where').longitude, 2.3522);
    assert.ok(back.get('area') instanceof Parse.Polygon);
    // Stored closed, as Parse Server on PostgreSQL does: the first point repeats last.
    assert.deepEqual(back.get('area').coordinates, [
      [0, 0],
      [0, 1],
      [1, 1],
      [1, 0],
      [0, 0],
    ]);
    assert.deepEqual(back.get('blob'), { __type: 'Bytes', base64: 'aGVsbG8gd29ybGQ=' });
    const pointer = back.get('owner');
    assert.ok(pointer instanceof Parse.Object);
    assert.equal(pointer.className, OWNER);
    assert.equal(pointer.id, owner.id);
    assert.equal(pointer.isDataAvailable(), false, 'a pointer is not included by default');
  });

  test('fetchAll fills several objects in one query', async () => {
    const saved = await Parse.Object.saveAll(
      ['one', 'two', 'three'].map((title) => new Parse.Object(ITEM).set({ title })),
    );
    const copies = saved.map((o) => Parse.Object.extend(ITEM).createWithoutData(o.id));
    await Parse.Object.fetchAll(copies);
    assert.deepEqual(
      copies.map((o) => o.get('title')),
      ['one', 'two', 'three'],
    );
  });

  test('include on get returns the pointed-to object', async () => {
    const owner = await new Parse.Object(OWNER).save({ label: 'included' });
    const item = await new Parse.Object(ITEM).save({ title: 'with owner', owner });
    const back = await new Parse.Query(ITEM).include('owner').get(item.id);
    assert.equal(back.get('owner').get('label'), 'included');
  });

  test('fetchWithInclude', async () => {
    const owner = await new Parse.Object(OWNER).save({ label: 'fetched' });
    const item = await new Parse.Object(ITEM).save({ title: 'fwi', owner });
    const copy = Parse.Object.extend(ITEM).createWithoutData(item.id);
    await copy.fetchWithInclude('owner');
    assert.equal(copy.get('owner').get('label'), 'fetched');
  });
});

describe('update', () => {
  test('dirty keys track local changes until saved', async () => {
    const item = await new Parse.Object(ITEM).save({ title: 'clean', score: 1 });
    assert.deepEqual(item.dirtyKeys(), []);
    assert.equal(item.dirty(), false);
    item.set('score', 2);
    item.set('note', 'changed');
    assert.deepEqual(item.dirtyKeys().sort(), ['note', 'score']);
    assert.equal(item.dirty('score'), true);
    assert.equal(item.dirty('title'), false);
    const before = item.updatedAt;
    await item.save();
    assert.deepEqual(item.dirtyKeys(), []);
    assert.ok(item.updatedAt.getTime() >= before.getTime());
    const back = await new Parse.Query(ITEM).get(item.id);
    assert.equal(back.get('score'), 2);
    assert.equal(back.get('note'), 'changed');
    assert.equal(back.get('title'), 'clean');
  });

  test('unset removes the key on the server', async () => {
    const item = await new Parse.Object(ITEM).save({ title: 'to unset', note: 'bye' });
    item.unset('note');
    assert.equal(item.dirty('note'), true);
    await item.save();
    const back = await new Parse.Query(ITEM).get(item.id);
    assert.equal(back.has('note'), false);
    assert.equal(back.get('title'), 'to unset');
    const raw = await rest('GET', `classes/${ITEM}/${item.id}`);
    assert.equal('note' in raw.body, false);
  });

  test('revert drops unsaved changes', async () => {
    const item = await new Parse.Object(ITEM).save({ title: 'kept' });
    item.set('title', 'discarded');
    item.revert();
    await item.save();
    const back = await new Parse.Query(ITEM).get(item.id);
    assert.equal(back.get('title'), 'kept');
  });

  test('a wrong type for a schema field fails with 111', async () => {
    const item = new Parse.Object(ITEM);
    item.set('score', 'not a number');
    await rejectsWithCode(item.save(), Parse.Error.INCORRECT_TYPE);
  });

  test('a new field on an existing class is added by the save', async () => {
    const item = await new Parse.Object(ITEM).save({ title: 'grows', brandNew: 5 });
    const schema = await new Parse.Schema(ITEM).get();
    assert.deepEqual(schema.fields.brandNew, { type: 'Number' });
    assert.equal((await new Parse.Query(ITEM).get(item.id)).get('brandNew'), 5);
  });
});

describe('destroy', () => {
  test('destroy removes the object', async () => {
    const item = await new Parse.Object(ITEM).save({ title: 'doomed' });
    await item.destroy();
    await rejectsWithCode(new Parse.Query(ITEM).get(item.id), Parse.Error.OBJECT_NOT_FOUND);
  });

  test('destroying a missing object fails with 101', async () => {
    const ghost = Parse.Object.extend(ITEM).createWithoutData('ghostGhost');
    await rejectsWithCode(ghost.destroy(), Parse.Error.OBJECT_NOT_FOUND);
  });
});

describe('ACL', () => {
  test('an object without public read is invisible to clients, visible to master', async () => {
    const item = new Parse.Object(ITEM);
    item.set('title', 'secret');
    item.setACL(new Parse.ACL());
    await item.save();
    await rejectsWithCode(new Parse.Query(ITEM).get(item.id), Parse.Error.OBJECT_NOT_FOUND);
    const back = await new Parse.Query(ITEM).get(item.id, MASTER);
    assert.equal(back.get('title'), 'secret');
    assert.deepEqual(back.getACL().toJSON(), {});
  });

  test('public read-only: clients cannot update it', async () => {
    const item = new Parse.Object(ITEM);
    const acl = new Parse.ACL();
    acl.setPublicReadAccess(true);
    item.set('title', 'read only');
    item.setACL(acl);
    await item.save();
    const back = await new Parse.Query(ITEM).get(item.id);
    assert.deepEqual(back.getACL().toJSON(), { '*': { read: true } });
    back.set('title', 'vandalized');
    await rejectsWithCode(back.save(), Parse.Error.OBJECT_NOT_FOUND);
    back.set('title', 'by master');
    await back.save(null, MASTER);
  });
});
