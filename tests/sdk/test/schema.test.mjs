// Parse.Schema (master key): create, read, add/delete fields, CLPs, indexes,
// delete and purge, and what the clients are then allowed to do.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { MASTER, Parse, dropClass, freshClass, rejectsWithCode, rest } from '../lib/setup.mjs';

const DEFAULT_FIELDS = ['ACL', 'createdAt', 'objectId', 'updatedAt'];

describe('create and read', () => {
  test('a new class has the default fields, CLP and _id_ index', async () => {
    await dropClass('SdkSchemaA');
    const schema = new Parse.Schema('SdkSchemaA');
    schema
      .addString('title')
      .addNumber('score')
      .addBoolean('done')
      .addDate('when')
      .addArray('tags')
      .addObject('meta')
      .addGeoPoint('loc')
      .addPolygon('area')
      .addBytes('blob')
      .addFile('doc')
      .addPointer('parent', 'SdkSchemaA')
      .addRelation('children', 'SdkSchemaA');
    const saved = await schema.save();
    assert.equal(saved.className, 'SdkSchemaA');
    const read = await new Parse.Schema('SdkSchemaA').get();
    assert.deepEqual(read.fields, {
      objectId: { type: 'String' },
      createdAt: { type: 'Date' },
      updatedAt: { type: 'Date' },
      ACL: { type: 'ACL' },
      title: { type: 'String' },
      score: { type: 'Number' },
      done: { type: 'Boolean' },
      when: { type: 'Date' },
      tags: { type: 'Array' },
      meta: { type: 'Object' },
      loc: { type: 'GeoPoint' },
      area: { type: 'Polygon' },
      blob: { type: 'Bytes' },
      doc: { type: 'File' },
      parent: { type: 'Pointer', targetClass: 'SdkSchemaA' },
      children: { type: 'Relation', targetClass: 'SdkSchemaA' },
    });
    const everyone = { '*': true };
    assert.deepEqual(read.classLevelPermissions, {
      ACL: { '*': { read: true, write: true } },
      find: everyone,
      count: everyone,
      get: everyone,
      create: everyone,
      update: everyone,
      delete: everyone,
      addField: everyone,
      protectedFields: { '*': [] },
    });
    // Parse Server also lists the implicit `_id_` index; backend_kit leaves it out.
    assert.deepEqual(
      Object.keys(read.indexes || {}).filter((name) => name !== '_id_'),
      [],
    );
  });

  test('Parse.Schema.all lists the classes', async () => {
    await freshClass('SdkSchemaListed', { a: 'String' });
    const all = await Parse.Schema.all();
    const listed = all.find((s) => s.className === 'SdkSchemaListed');
    assert.ok(listed, 'the new class is listed');
    assert.deepEqual(listed.fields.a, { type: 'String' });
  });

  test('creating an existing class fails with 103', async () => {
    await freshClass('SdkSchemaTwice', {});
    await rejectsWithCode(
      new Parse.Schema('SdkSchemaTwice').save(),
      Parse.Error.INVALID_CLASS_NAME,
    );
  });

  test('getting a missing class fails with 103', async () => {
    await rejectsWithCode(new Parse.Schema('SdkNoSuchClass').get(), Parse.Error.INVALID_CLASS_NAME);
  });

  test('invalid field names and types are refused', async () => {
    await dropClass('SdkSchemaBad');
    const badName = await rest('POST', 'schemas/SdkSchemaBad', {
      keys: 'master',
      body: { fields: { '1bad': { type: 'String' } } },
    });
    assert.equal(badName.status, 400);
    assert.equal(badName.body.code, Parse.Error.INVALID_KEY_NAME);
    const badType = await rest('POST', 'schemas/SdkSchemaBad', {
      keys: 'master',
      body: { fields: { fine: { type: 'Nope' } } },
    });
    assert.equal(badType.status, 400);
    assert.equal(badType.body.code, Parse.Error.INCORRECT_TYPE);
    const badClass = await rest('POST', 'schemas/1Bad', { keys: 'master', body: {} });
    assert.equal(badClass.body.code, Parse.Error.INVALID_CLASS_NAME);
  });

  test('client class creation is off: an unknown class cannot be saved without master', async () => {
    await dropClass('SdkNotCreated');
    await rejectsWithCode(
      new Parse.Object('SdkNotCreated').save({ a: 1 }),
      Parse.Error.OPERATION_FORBIDDEN,
    );
    await new Parse.Object('SdkNotCreated').save({ a: 1 }, MASTER);
    const schema = await new Parse.Schema('SdkNotCreated').get();
    assert.deepEqual(schema.fields.a, { type: 'Number' });
  });

  test('schemas need the master key', async () => {
    const response = await rest('GET', 'schemas');
    assert.equal(response.status, 403);
    assert.equal(typeof response.body.error, 'string');
  });
});

describe('fields', () => {
  test('addField on an existing class, then objects use it', async () => {
    await freshClass('SdkSchemaGrow', { a: 'String' });
    const schema = new Parse.Schema('SdkSchemaGrow');
    schema.addNumber('b');
    const updated = await schema.update();
    assert.deepEqual(updated.fields.b, { type: 'Number' });
    const item = new Parse.Object('SdkSchemaGrow');
    item.set('b', 'text');
    await rejectsWithCode(item.save(), Parse.Error.INCORRECT_TYPE);
  });

  test('adding a field that exists fails with 255', async () => {
    await freshClass('SdkSchemaDup', { a: 'String' });
    const schema = new Parse.Schema('SdkSchemaDup');
    schema.addNumber('a');
    await rejectsWithCode(schema.update(), 255);
  });

  test('deleteField removes the field and its values', async () => {
    await freshClass('SdkSchemaShrink', { keep: 'String', drop: 'String' });
    const item = await new Parse.Object('SdkSchemaShrink').save({ keep: 'k', drop: 'd' });
    const schema = new Parse.Schema('SdkSchemaShrink');
    schema.deleteField('drop');
    const updated = await schema.update();
    assert.equal('drop' in updated.fields, false);
    const back = await new Parse.Query('SdkSchemaShrink').get(item.id);
    assert.equal(back.has('drop'), false);
    assert.equal(back.get('keep'), 'k');
    // the name is free again, with another type
    const again = new Parse.Schema('SdkSchemaShrink');
    again.addNumber('drop');
    assert.deepEqual((await again.update()).fields.drop, { type: 'Number' });
  });

  test('required fields and default values', async () => {
    await freshClass('SdkSchemaRules', {
      must: { type: 'String', required: true },
      level: { type: 'Number', defaultValue: 7 },
    });
    await rejectsWithCode(
      new Parse.Object('SdkSchemaRules').save({ other: 1 }),
      Parse.Error.VALIDATION_ERROR,
    );
    const item = await new Parse.Object('SdkSchemaRules').save({ must: 'here' });
    assert.equal(item.get('level'), 7);
    assert.equal((await new Parse.Query('SdkSchemaRules').get(item.id)).get('level'), 7);
  });
});

describe('class-level permissions', () => {
  test('a class closed to find and create refuses clients, not master', async () => {
    const clp = {
      find: {},
      count: {},
      get: { '*': true },
      create: {},
      update: {},
      delete: {},
      addField: {},
      protectedFields: {},
    };
    await freshClass('SdkSchemaClosed', { a: 'Number' }, { classLevelPermissions: clp });
    const read = await new Parse.Schema('SdkSchemaClosed').get();
    assert.deepEqual(read.classLevelPermissions.find, {});
    assert.deepEqual(read.classLevelPermissions.get, { '*': true });
    const item = await new Parse.Object('SdkSchemaClosed').save({ a: 1 }, MASTER);
    await rejectsWithCode(
      new Parse.Query('SdkSchemaClosed').find(),
      Parse.Error.OPERATION_FORBIDDEN,
    );
    await rejectsWithCode(
      new Parse.Query('SdkSchemaClosed').count(),
      Parse.Error.OPERATION_FORBIDDEN,
    );
    // query.get() is a find with an objectId constraint: refused too
    await rejectsWithCode(
      new Parse.Query('SdkSchemaClosed').get(item.id),
      Parse.Error.OPERATION_FORBIDDEN,
    );
    // fetch() is GET /classes/C/id: the `get` permission
    const fetched = await Parse.Object.extend('SdkSchemaClosed').createWithoutData(item.id).fetch();
    assert.equal(fetched.get('a'), 1);
    await rejectsWithCode(
      new Parse.Object('SdkSchemaClosed').save({ a: 2 }),
      Parse.Error.OPERATION_FORBIDDEN,
    );
    assert.equal((await new Parse.Query('SdkSchemaClosed').find(MASTER)).length, 1);
  });

  test('addField closed: clients cannot add fields', async () => {
    const clp = new Parse.CLP();
    clp.setPublicReadAccess(true);
    clp.setPublicWriteAccess(true);
    await freshClass('SdkSchemaNoGrow', { a: 'Number' });
    const schema = new Parse.Schema('SdkSchemaNoGrow');
    schema.setCLP({ ...clp.toJSON(), addField: {} });
    await schema.update();
    await new Parse.Object('SdkSchemaNoGrow').save({ a: 1 });
    await rejectsWithCode(
      new Parse.Object('SdkSchemaNoGrow').save({ brandNew: 1 }),
      Parse.Error.OPERATION_FORBIDDEN,
    );
  });

  test('protectedFields hide keys from clients', async () => {
    await freshClass(
      'SdkSchemaProtected',
      { open: 'String', secret: 'String' },
      {
        classLevelPermissions: {
          find: { '*': true },
          count: { '*': true },
          get: { '*': true },
          create: { '*': true },
          update: { '*': true },
          delete: { '*': true },
          addField: { '*': true },
          protectedFields: { '*': ['secret'] },
        },
      },
    );
    const item = await new Parse.Object('SdkSchemaProtected').save({ open: 'o', secret: 's' });
    const back = await new Parse.Query('SdkSchemaProtected').get(item.id);
    assert.equal(back.get('open'), 'o');
    assert.equal(back.has('secret'), false);
    assert.equal(
      (await new Parse.Query('SdkSchemaProtected').get(item.id, MASTER)).get('secret'),
      's',
    );
  });

  test('an invalid CLP is refused', async () => {
    await dropClass('SdkSchemaBadClp');
    const schema = new Parse.Schema('SdkSchemaBadClp');
    schema.setCLP({ find: { '*': 'yes' } });
    await assert.rejects(schema.save(), (error) => {
      assert.ok(error instanceof Parse.Error);
      assert.ok([Parse.Error.INVALID_JSON, Parse.Error.INVALID_KEY_NAME].includes(error.code));
      return true;
    });
  });
});

describe('indexes', () => {
  test('add and delete an index', async () => {
    await freshClass('SdkSchemaIndexed', { name: 'String', rank: 'Number' });
    const schema = new Parse.Schema('SdkSchemaIndexed');
    schema.addIndex('name_rank', { name: 1, rank: -1 });
    const updated = await schema.update();
    assert.deepEqual(updated.indexes.name_rank, { name: 1, rank: -1 });
    // queries still work with the index in place
    await new Parse.Object('SdkSchemaIndexed').save({ name: 'x', rank: 1 });
    assert.equal(await new Parse.Query('SdkSchemaIndexed').equalTo('name', 'x').count(), 1);
    const again = new Parse.Schema('SdkSchemaIndexed');
    again.deleteIndex('name_rank');
    const dropped = await again.update();
    assert.equal('name_rank' in (dropped.indexes || {}), false);
  });

  test('an index on a missing field is refused', async () => {
    await freshClass('SdkSchemaBadIndex', { name: 'String' });
    const schema = new Parse.Schema('SdkSchemaBadIndex');
    schema.addIndex('nope_1', { nope: 1 });
    await rejectsWithCode(schema.update(), Parse.Error.INVALID_QUERY);
  });

  test('indexes given at creation', async () => {
    await freshClass(
      'SdkSchemaIndexAtCreate',
      { name: 'String' },
      { indexes: { by_name: { name: 1 } } },
    );
    const read = await new Parse.Schema('SdkSchemaIndexAtCreate').get();
    assert.deepEqual(read.indexes.by_name, { name: 1 });
  });
});

describe('delete and purge', () => {
  test('deleting a non-empty class fails with 255; purge empties it', async () => {
    await freshClass('SdkSchemaFull', { a: 'Number' });
    await Parse.Object.saveAll([1, 2, 3].map((a) => new Parse.Object('SdkSchemaFull').set({ a })));
    const schema = new Parse.Schema('SdkSchemaFull');
    await rejectsWithCode(schema.delete(), 255, /not empty/);
    await schema.purge();
    assert.equal(await new Parse.Query('SdkSchemaFull').count(), 0);
    // purge keeps the schema
    assert.deepEqual((await schema.get()).fields.a, { type: 'Number' });
    await schema.delete();
    await rejectsWithCode(schema.get(), Parse.Error.INVALID_CLASS_NAME);
  });

  test('a deleted class can be created again, empty', async () => {
    await freshClass('SdkSchemaReborn', { a: 'Number' });
    await freshClass('SdkSchemaReborn', { b: 'String' });
    const read = await new Parse.Schema('SdkSchemaReborn').get();
    assert.equal('a' in read.fields, false);
    assert.deepEqual(read.fields.b, { type: 'String' });
  });

  test('purge needs the master key', async () => {
    await freshClass('SdkSchemaPurgeGuard', {});
    const response = await rest('DELETE', 'purge/SdkSchemaPurgeGuard');
    assert.equal(response.status, 403);
  });
});

test('default fields are always present', async () => {
  await freshClass('SdkSchemaMinimal', {});
  const read = await new Parse.Schema('SdkSchemaMinimal').get();
  assert.deepEqual(Object.keys(read.fields).sort(), DEFAULT_FIELDS);
});
