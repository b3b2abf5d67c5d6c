// Every query operator through Parse.Query, on the fixture of
// backend_kit/objects/query/cases.py (same objects, same expected answers), plus
// ordering, paging, count, select/exclude and include.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';

import { MASTER, Parse, freshClass } from '../lib/setup.mjs';

const QC = 'SdkQC';
const OTHER = 'SdkQCOther';
const ALL = ['qa', 'qb', 'qc', 'qd', 'qe'];

const geo = (lat, lng) => new Parse.GeoPoint(lat, lng);
const SF = geo(37.7749, -122.4194);
const NYC = geo(40.7128, -74.006);
const LONDON = geo(51.5074, -0.1278);

const objects = {}; // label -> saved Parse.Object
const labelOf = new Map(); // objectId -> label

function labels(results) {
  return results.map((o) => labelOf.get(o.id) ?? `unknown:${o.id}`);
}

async function saveLabelled(className, label, fields) {
  const object = await new Parse.Object(className).save(fields);
  objects[label] = object;
  labelOf.set(object.id, label);
  return object;
}

before(async () => {
  await freshClass(OTHER, { label: 'String', rank: 'Number' });
  await freshClass(QC, {
    name: 'String',
    score: 'Number',
    flag: 'Boolean',
    when: 'Date',
    tags: 'Array',
    owner: { type: 'Pointer', targetClass: OTHER },
    owners: 'Array',
    meta: 'Object',
    loc: 'GeoPoint',
    area: 'Polygon',
    body: 'String',
    blob: 'Bytes',
    rel: { type: 'Relation', targetClass: OTHER },
  });
  const o1 = await saveLabelled(OTHER, 'o1', { label: 'alpha', rank: 1 });
  const o2 = await saveLabelled(OTHER, 'o2', { label: 'Gamma', rank: 2 });
  const o3 = await saveLabelled(OTHER, 'o3', { label: 'nobody', rank: 3 });
  const qa = await saveLabelled(QC, 'qa', {
    name: 'alpha',
    score: 10,
    flag: true,
    when: new Date('2024-01-01T00:00:00.000Z'),
    tags: ['x', 'y'],
    owner: o1,
    meta: { level: 1, kind: 'gold', nested: { deep: 'v' } },
    loc: SF,
    area: new Parse.Polygon([
      [37.0, -123.0],
      [38.5, -123.0],
      [38.5, -121.5],
      [37.0, -121.5],
    ]),
    body: 'The quick brown fox jumps over the lazy dog',
    blob: { __type: 'Bytes', base64: 'aGVsbG8=' },
  });
  const qb = await saveLabelled(QC, 'qb', {
    name: 'beta',
    score: 20.5,
    flag: false,
    when: new Date('2024-06-01T12:30:00.000Z'),
    tags: ['y', 'z'],
    owner: o2,
    meta: { level: 2, kind: 'silver' },
    loc: NYC,
    body: 'Lazy cats are sleeping',
  });
  await saveLabelled(QC, 'qc', {
    name: 'Gamma',
    score: -5,
    tags: [],
    owners: [o1, o2],
    meta: { level: 3 },
    loc: LONDON,
    body: 'Quick thinking wins',
    when: new Date('2023-12-31T23:59:59.999Z'),
  });
  await saveLabelled(QC, 'qd', { name: 'delta', score: null, tags: ['x'], flag: true });
  await saveLabelled(QC, 'qe', { name: 'épsilon', score: 0, flag: false });
  qa.relation('rel').add([o1, o2]);
  qb.relation('rel').add(o3);
  await Parse.Object.saveAll([qa, qb]);
});

const other = () => new Parse.Query(OTHER);
const o = (label) => objects[label];

// [case id of cases.py (or a new name), build(query) -> query, expected labels]
const SET_CASES = [
  ['eq-string', (q) => q.equalTo('name', 'alpha'), ['qa']],
  ['eq-unicode', (q) => q.equalTo('name', 'épsilon'), ['qe']],
  ['eq-number-int', (q) => q.equalTo('score', 10), ['qa']],
  ['eq-number-float', (q) => q.equalTo('score', 20.5), ['qb']],
  ['eq-number-zero', (q) => q.equalTo('score', 0), ['qe']],
  ['eq-wrong-type', (q) => q.equalTo('score', '10'), []],
  ['eq-bool-true', (q) => q.equalTo('flag', true), ['qa', 'qd']],
  ['eq-bool-false', (q) => q.equalTo('flag', false), ['qb', 'qe']],
  ['eq-null', (q) => q.equalTo('score', null), ['qd']],
  ['eq-null-missing', (q) => q.equalTo('flag', null), ['qc']],
  ['eq-date', (q) => q.equalTo('when', new Date('2024-01-01T00:00:00.000Z')), ['qa']],
  ['eq-bytes', (q) => q.equalTo('blob', { __type: 'Bytes', base64: 'aGVsbG8=' }), ['qa']],
  ['eq-object', (q) => q.equalTo('meta', { level: 3 }), ['qc']],
  ['eq-object-key-order', (q) => q.equalTo('meta', { kind: 'silver', level: 2 }), ['qb']],
  ['eq-array-whole', (q) => q.equalTo('tags', ['x', 'y']), ['qa']],
  ['eq-objectid', (q) => q.equalTo('objectId', o('qb').id), ['qb']],
  ['eq-unknown-field', (q) => q.equalTo('nope', 1), []],
  ['ne-string', (q) => q.notEqualTo('name', 'alpha'), ['qb', 'qc', 'qd', 'qe']],
  ['ne-missing-matches', (q) => q.notEqualTo('flag', true), ['qb', 'qc', 'qe']],
  ['ne-null', (q) => q.notEqualTo('score', null), ['qa', 'qb', 'qc', 'qe']],
  ['ne-unknown-field', (q) => q.notEqualTo('nope', 1), ALL],
  ['gt-number', (q) => q.greaterThan('score', 0), ['qa', 'qb']],
  ['gte-number', (q) => q.greaterThanOrEqualTo('score', 0), ['qa', 'qb', 'qe']],
  ['lt-number', (q) => q.lessThan('score', 10), ['qc', 'qe']],
  [
    'lte-range',
    (q) => q.greaterThanOrEqualTo('score', -5).lessThanOrEqualTo('score', 10),
    ['qa', 'qc', 'qe'],
  ],
  ['gt-string-binary', (q) => q.greaterThan('name', 'b'), ['qb', 'qd', 'qe']],
  ['lt-string-binary', (q) => q.lessThan('name', 'a'), ['qc']],
  ['gt-date', (q) => q.greaterThan('when', new Date('2024-01-01T00:00:00.000Z')), ['qb']],
  [
    'lte-date',
    (q) => q.lessThanOrEqualTo('when', new Date('2024-01-01T00:00:00.000Z')),
    ['qa', 'qc'],
  ],
  ['gt-wrong-type', (q) => q.greaterThan('score', 'a'), []],
  ['created-before-tomorrow', (q) => q.lessThan('createdAt', { $relativeTime: 'in 1 day' }), ALL],
  ['created-after-tomorrow', (q) => q.greaterThan('createdAt', { $relativeTime: 'in 1 day' }), []],
  [
    'created-in-the-last-hour',
    (q) => q.greaterThan('createdAt', { $relativeTime: '1 hour ago' }),
    ALL,
  ],
  [
    'relative-time-field',
    (q) => q.greaterThan('when', { $relativeTime: '100 years ago' }),
    ['qa', 'qb', 'qc'],
  ],
  ['in-strings', (q) => q.containedIn('name', ['alpha', 'Gamma', 'zzz']), ['qa', 'qc']],
  ['in-numbers', (q) => q.containedIn('score', [10, 0]), ['qa', 'qe']],
  ['in-with-null', (q) => q.containedIn('flag', [true, null]), ['qa', 'qc', 'qd']],
  ['in-empty', (q) => q.containedIn('name', []), []],
  ['nin-strings', (q) => q.notContainedIn('name', ['alpha', 'beta']), ['qc', 'qd', 'qe']],
  ['nin-missing-matches', (q) => q.notContainedIn('flag', [true]), ['qb', 'qc', 'qe']],
  ['in-objectid', (q) => q.containedIn('objectId', [o('qa').id, o('qe').id]), ['qa', 'qe']],
  ['exists-true', (q) => q.exists('owner'), ['qa', 'qb']],
  ['exists-false', (q) => q.doesNotExist('owner'), ['qc', 'qd', 'qe']],
  ['exists-null-is-absent', (q) => q.doesNotExist('score'), ['qd']],
  ['exists-unknown', (q) => q.doesNotExist('nope'), ALL],
  ['array-contains', (q) => q.equalTo('tags', 'x'), ['qa', 'qd']],
  ['array-all', (q) => q.containsAll('tags', ['x', 'y']), ['qa']],
  ['array-in', (q) => q.containedIn('tags', ['z', 'nope']), ['qb']],
  ['array-nin', (q) => q.notContainedIn('tags', ['x']), ['qb', 'qc', 'qe']],
  ['array-contained-by', (q) => q.containedBy('tags', ['x', 'y']), ['qa', 'qc', 'qd']],
  ['array-pointer', (q) => q.equalTo('owners', o('o1')), ['qc']],
  ['array-all-pointers', (q) => q.containsAll('owners', [o('o1'), o('o2')]), ['qc']],
  ['array-all-regex', (q) => q.containsAllStartingWith('tags', ['y', 'z']), ['qb']],
  ['array-all-starting-single', (q) => q.containsAllStartingWith('tags', 'x'), ['qa', 'qd']],
  ['regex-prefix', (q) => q.matches('name', '^al'), ['qa']],
  ['regex-case', (q) => q.matches('name', '^GAM', 'i'), ['qc']],
  ['regex-literal-flags', (q) => q.matches('name', /^gam/i), ['qc']],
  ['regex-flags-im', (q) => q.matches('body', /^lazy/im), ['qb']],
  ['regex-quoted', (q) => q.startsWith('name', 'be'), ['qb']],
  ['starts-with-case-insensitive', (q) => q.startsWith('name', 'gam', 'i'), ['qc']],
  ['regex-contains-quoted', (q) => q.contains('name', 'lt'), ['qd']],
  ['contains-is-case-sensitive', (q) => q.contains('body', 'lazy'), ['qa']],
  ['contains-special-chars', (q) => q.contains('name', 'a.'), []],
  ['regex-ends', (q) => q.endsWith('name', 'a'), ['qa', 'qb', 'qc', 'qd']],
  ['regex-word-boundary', (q) => q.matches('body', '\\bcats\\b'), ['qb']],
  ['regex-array', (q) => q.matches('tags', '^z'), ['qb']],
  ['regex-not-string', (q) => q.matches('score', '1'), []],
  [
    'or',
    () =>
      Parse.Query.or(
        new Parse.Query(QC).equalTo('name', 'alpha'),
        new Parse.Query(QC).lessThan('score', 0),
      ),
    ['qa', 'qc'],
  ],
  [
    'and',
    () =>
      Parse.Query.and(
        new Parse.Query(QC).equalTo('flag', true),
        new Parse.Query(QC).equalTo('tags', 'x'),
      ),
    ['qa', 'qd'],
  ],
  [
    'nor',
    () =>
      Parse.Query.nor(
        new Parse.Query(QC).equalTo('flag', true),
        new Parse.Query(QC).equalTo('name', 'beta'),
      ),
    ['qc', 'qe'],
  ],
  [
    'or-nested-and',
    () =>
      Parse.Query.or(
        Parse.Query.and(
          new Parse.Query(QC).equalTo('flag', false),
          new Parse.Query(QC).greaterThan('score', 5),
        ),
        new Parse.Query(QC).equalTo('name', 'delta'),
      ),
    ['qb', 'qd'],
  ],
  [
    'or-and-outer-constraint',
    () =>
      Parse.Query.or(
        new Parse.Query(QC).equalTo('name', 'alpha'),
        new Parse.Query(QC).equalTo('name', 'beta'),
      ).equalTo('flag', false),
    ['qb'],
  ],
  ['implicit-and', (q) => q.equalTo('flag', false).greaterThan('score', 5), ['qb']],
  ['dot-eq', (q) => q.equalTo('meta.level', 2), ['qb']],
  ['dot-gte', (q) => q.greaterThanOrEqualTo('meta.level', 2), ['qb', 'qc']],
  ['dot-string', (q) => q.equalTo('meta.kind', 'gold'), ['qa']],
  ['dot-deep', (q) => q.equalTo('meta.nested.deep', 'v'), ['qa']],
  ['dot-exists-false', (q) => q.doesNotExist('meta.level'), ['qd', 'qe']],
  ['dot-type-mixed', (q) => q.greaterThan('meta.level', '1'), []],
  ['dot-in', (q) => q.containedIn('meta.kind', ['gold', 'silver']), ['qa', 'qb']],
  ['pointer-eq', (q) => q.equalTo('owner', o('o1')), ['qa']],
  ['pointer-in', (q) => q.containedIn('owner', [o('o1'), o('o2')]), ['qa', 'qb']],
  ['pointer-ne', (q) => q.notEqualTo('owner', o('o1')), ['qb', 'qc', 'qd', 'qe']],
  ['in-query', (q) => q.matchesQuery('owner', other().greaterThanOrEqualTo('rank', 2)), ['qb']],
  [
    'not-in-query',
    (q) => q.doesNotMatchQuery('owner', other().greaterThanOrEqualTo('rank', 2)),
    ['qa', 'qc', 'qd', 'qe'],
  ],
  ['in-query-array', (q) => q.matchesQuery('owners', other().equalTo('rank', 2)), ['qc']],
  ['select', (q) => q.matchesKeyInQuery('name', 'label', other()), ['qa', 'qc']],
  [
    'dont-select',
    (q) => q.doesNotMatchKeyInQuery('name', 'label', other().equalTo('rank', 1)),
    ['qb', 'qc', 'qd', 'qe'],
  ],
  ['relation-has', (q) => q.equalTo('rel', o('o3')), ['qb']],
  ['text-word', (q) => q.fullText('body', 'quick'), ['qa', 'qc']],
  ['text-stem', (q) => q.fullText('body', 'jumping'), ['qa']],
  ['text-stem-2', (q) => q.fullText('body', 'sleep'), ['qb']],
  ['text-all-words', (q) => q.fullText('body', 'lazy dog'), ['qa']],
  ['text-negation', (q) => q.fullText('body', 'quick -fox'), ['qc']],
  ['text-phrase', (q) => q.fullText('body', '"brown fox"'), ['qa']],
  ['text-case-sensitive', (q) => q.fullText('body', 'Quick', { caseSensitive: true }), ['qc']],
  ['text-language', (q) => q.fullText('body', 'sleeping', { language: 'en' }), ['qb']],
  ['near-max-km', (q) => q.withinKilometers('loc', SF, 100), ['qa']],
  ['near-max-miles', (q) => q.withinMiles('loc', SF, 3000), ['qa', 'qb']],
  ['near-max-radians', (q) => q.withinRadians('loc', NYC, 0.01), ['qb']],
  ['within-km-unsorted', (q) => q.withinKilometers('loc', NYC, 100, false), ['qb']],
  ['within-box', (q) => q.withinGeoBox('loc', geo(40, -75), geo(41, -73)), ['qb']],
  [
    'geo-within-polygon',
    (q) => q.withinPolygon('loc', [geo(51, -1), geo(52, -1), geo(52, 1), geo(51, 1)]),
    ['qc'],
  ],
  [
    'geo-within-polygon-pairs',
    (q) =>
      // bare pairs are [longitude, latitude], as in GeoJSON
      q.withinPolygon('loc', [
        [-123, 37],
        [-123, 38.5],
        [-121.5, 38.5],
        [-121.5, 37],
      ]),
    ['qa'],
  ],
  ['geo-intersects', (q) => q.polygonContains('area', geo(37.8, -122.3)), ['qa']],
  ['geo-intersects-outside', (q) => q.polygonContains('area', geo(40.0, -122.3)), []],
];

describe('query operators (cases.py)', () => {
  for (const [name, build, expected] of SET_CASES) {
    test(name, async () => {
      const query = build(new Parse.Query(QC));
      const results = await query.find();
      assert.deepEqual(labels(results).sort(), [...expected].sort());
    });
  }

  test('related-to (Parse.Relation query)', async () => {
    const results = await o('qa').relation('rel').query().find();
    assert.deepEqual(labels(results).sort(), ['o1', 'o2']);
    const other = await o('qb').relation('rel').query().find();
    assert.deepEqual(labels(other), ['o3']);
  });

  test('related-to combined with a constraint', async () => {
    const results = await o('qa').relation('rel').query().equalTo('rank', 2).find();
    assert.deepEqual(labels(results), ['o2']);
  });
});

// [case id, build(query) -> query, expected labels in order]
const ORDER_CASES = [
  ['near-sorted', (q) => q.near('loc', LONDON), ['qc', 'qb', 'qa']],
  ['near-max-km-sorted', (q) => q.withinKilometers('loc', NYC, 10000), ['qb', 'qa', 'qc']],
  ['order-number-nulls-first', (q) => q.ascending('score'), ['qd', 'qc', 'qe', 'qa', 'qb']],
  ['order-number-desc', (q) => q.descending('score'), ['qb', 'qa', 'qe', 'qc', 'qd']],
  ['order-string-binary', (q) => q.ascending('name'), ['qc', 'qa', 'qb', 'qd', 'qe']],
  ['order-string-desc', (q) => q.descending('name'), ['qe', 'qd', 'qb', 'qa', 'qc']],
  [
    'order-two-keys',
    (q) => q.exists('flag').ascending('flag').addDescending('name'),
    ['qe', 'qb', 'qd', 'qa'],
  ],
  ['order-date', (q) => q.exists('when').descending('when'), ['qb', 'qa', 'qc']],
  ['order-created-at', (q) => q.ascending('createdAt'), ['qa', 'qb', 'qc', 'qd', 'qe']],
  ['order-dot-notation', (q) => q.exists('meta').descending('meta.level'), ['qc', 'qb', 'qa']],
  ['skip-and-limit', (q) => q.ascending('name').skip(1).limit(2), ['qa', 'qb']],
  ['limit-only', (q) => q.descending('score').limit(1), ['qb']],
  ['skip-past-the-end', (q) => q.ascending('name').skip(10), []],
];

describe('ordering and paging', () => {
  for (const [name, build, expected] of ORDER_CASES) {
    test(name, async () => {
      const results = await build(new Parse.Query(QC)).find();
      assert.deepEqual(labels(results), expected);
    });
  }

  test('first() returns the first match or undefined', async () => {
    const first = await new Parse.Query(QC).ascending('name').first();
    assert.equal(labelOf.get(first.id), 'qc');
    assert.equal(await new Parse.Query(QC).equalTo('name', 'nobody').first(), undefined);
  });

  test('each() visits every match', async () => {
    const seen = [];
    await new Parse.Query(QC).each((object) => seen.push(labelOf.get(object.id)));
    assert.deepEqual(seen.sort(), ALL);
  });
});

describe('default limit', () => {
  const MANY = 'SdkQMany';

  before(async () => {
    await freshClass(MANY, { n: 'Number' });
    const rows = Array.from({ length: 120 }, (_, n) => new Parse.Object(MANY).set({ n }));
    await Parse.Object.saveAll(rows, { batchSize: 60 });
  });

  test('find returns 100 objects unless told otherwise, with no maximum', async () => {
    assert.equal((await new Parse.Query(MANY).find()).length, 100);
    assert.equal((await new Parse.Query(MANY).limit(1000).find()).length, 120);
    const tail = await new Parse.Query(MANY).ascending('n').skip(100).find();
    assert.deepEqual(
      tail.map((o) => o.get('n')),
      Array.from({ length: 20 }, (_, i) => 100 + i),
    );
  });

  test('findAll pages through every object', async () => {
    assert.equal((await new Parse.Query(MANY).findAll()).length, 120);
  });
});

describe('count', () => {
  test('count() counts matches, ignoring limit', async () => {
    assert.equal(await new Parse.Query(QC).count(), 5);
    assert.equal(await new Parse.Query(QC).equalTo('flag', true).limit(1).count(), 2);
    assert.equal(await new Parse.Query(QC).equalTo('name', 'nobody').count(), 0);
  });

  test('withCount() returns results and the total', async () => {
    const { results, count } = await new Parse.Query(QC).limit(2).withCount().find();
    assert.equal(results.length, 2);
    assert.equal(count, 5);
  });
});

describe('select and exclude', () => {
  test('select keeps only the named keys', async () => {
    const [object] = await new Parse.Query(QC)
      .equalTo('name', 'alpha')
      .select('name', 'score')
      .find();
    assert.equal(object.get('name'), 'alpha');
    assert.equal(object.get('score'), 10);
    assert.equal(object.has('tags'), false);
    assert.equal(object.has('body'), false);
    assert.ok(object.createdAt instanceof Date);
  });

  test('select a dotted key returns its whole top-level key', async () => {
    // Parse Server trims keys to their first segment (RestQuery runFind).
    const [object] = await new Parse.Query(QC).equalTo('name', 'alpha').select('meta.kind').find();
    assert.deepEqual(object.get('meta'), { level: 1, kind: 'gold', nested: { deep: 'v' } });
    assert.equal(object.has('name'), false);
  });

  test('exclude drops the named keys', async () => {
    const [object] = await new Parse.Query(QC)
      .equalTo('name', 'alpha')
      .exclude('body', 'tags')
      .find();
    assert.equal(object.has('body'), false);
    assert.equal(object.has('tags'), false);
    assert.equal(object.get('name'), 'alpha');
    assert.equal(object.get('score'), 10);
  });
});

describe('include', () => {
  const A = 'SdkIncA';
  const B = 'SdkIncB';
  const C = 'SdkIncC';
  let a;

  before(async () => {
    await freshClass(C, { name: 'String' });
    await freshClass(B, { name: 'String', c: { type: 'Pointer', targetClass: C } });
    await freshClass(A, {
      name: 'String',
      b: { type: 'Pointer', targetClass: B },
      other: { type: 'Pointer', targetClass: C },
      list: 'Array',
    });
    const c = await new Parse.Object(C).save({ name: 'leaf' });
    const c2 = await new Parse.Object(C).save({ name: 'side' });
    const b = await new Parse.Object(B).save({ name: 'middle', c });
    a = await new Parse.Object(A).save({ name: 'root', b, other: c2, list: [c, c2] });
  });

  test('without include a pointer has no data', async () => {
    const found = await new Parse.Query(A).get(a.id);
    assert.equal(found.get('b').isDataAvailable(), false);
  });

  test('include one level', async () => {
    const found = await new Parse.Query(A).include('b').get(a.id);
    assert.equal(found.get('b').get('name'), 'middle');
    assert.equal(found.get('b').get('c').isDataAvailable(), false);
  });

  test('include a nested path includes every level on the way', async () => {
    const found = await new Parse.Query(A).include('b.c').get(a.id);
    assert.equal(found.get('b').get('name'), 'middle');
    assert.equal(found.get('b').get('c').get('name'), 'leaf');
    assert.equal(found.get('other').isDataAvailable(), false);
  });

  test('include pointers inside an array', async () => {
    const found = await new Parse.Query(A).include('list').get(a.id);
    assert.deepEqual(
      found.get('list').map((item) => item.get('name')),
      ['leaf', 'side'],
    );
  });

  test('includeAll includes every pointer of the first level', async () => {
    const found = await new Parse.Query(A).includeAll().get(a.id);
    assert.equal(found.get('b').get('name'), 'middle');
    assert.equal(found.get('other').get('name'), 'side');
    assert.equal(found.get('b').get('c').isDataAvailable(), false);
  });

  test('include with select keeps the included object', async () => {
    const found = await new Parse.Query(A).include('b').select('b.name').get(a.id);
    assert.equal(found.get('b').get('name'), 'middle');
    assert.equal(found.has('name'), false);
  });

  test('include of a deleted target leaves the pointer', async () => {
    const orphan = await new Parse.Object(C).save({ name: 'gone' });
    const holder = await new Parse.Object(A).save({ name: 'holder', other: orphan });
    await orphan.destroy();
    const found = await new Parse.Query(A).include('other').get(holder.id);
    assert.equal(found.get('other').id, orphan.id);
    assert.equal(found.get('other').isDataAvailable(), false);
  });
});

describe('full-text score', () => {
  test('sortByTextScore orders by relevance and returns a numeric score', async () => {
    const results = await new Parse.Query(QC).fullText('body', 'quick').sortByTextScore().find();
    assert.equal(results.length, 2);
    for (const object of results) {
      assert.equal(typeof object.get('score'), 'number');
    }
    assert.ok(results[0].get('score') >= results[1].get('score'));
  });
});

describe('distinct and aggregate (master key)', () => {
  test('distinct returns the distinct values of a key', async () => {
    const values = await new Parse.Query(QC).distinct('flag', MASTER);
    assert.deepEqual([...values].sort(), [false, true]);
  });

  test('aggregate with $group counts per value', async () => {
    const rows = await new Parse.Query(QC).aggregate(
      [{ $match: { flag: { $exists: true } } }, { $group: { _id: '$flag', total: { $sum: 1 } } }],
      MASTER,
    );
    const byFlag = Object.fromEntries(rows.map((row) => [String(row.objectId), row.total]));
    assert.deepEqual(byFlag, { true: 2, false: 2 });
  });
});
