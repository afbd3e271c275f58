import { describe, expect, it } from 'vitest';

import { parsePath, walk, type Scalar } from '../../src/matcher/index.js';
import { validationError } from '../model/validation.js';

/** Every value the key yields from the document, in order. */
function yields(document: unknown, key: string): Scalar[] {
  const found: Scalar[] = [];
  walk(document, parsePath(key, 'key'), {
    visit: (value) => {
      found.push(value);
      return false;
    },
  });
  return found;
}

describe('parsePath', () => {
  it.each([
    ['status.health', ['status', 'health']],
    ['a', ['a']],
    ['meta.labels["app.kubernetes.io/name"]', ['meta', 'labels', 'app.kubernetes.io/name']],
    ["meta.labels['app.kubernetes.io/name']", ['meta', 'labels', 'app.kubernetes.io/name']],
    ['["a.b"].c', ['a.b', 'c']],
    ['a["b"]["c"].d', ['a', 'b', 'c', 'd']],
    ['a["say \\"hi\\""]', ['a', 'say "hi"']],
    ["a['it\\'s']", ['a', "it's"]],
    ['a["back\\\\slash"]', ['a', 'back\\slash']],
    ['a["[x=y]"]', ['a', '[x=y]']],
    ['meta.labels.app/name', ['meta', 'labels', 'app/name']],
    ['status.cpu-load_1', ['status', 'cpu-load_1']],
  ])('reads %j as property names', (key, names) => {
    expect(parsePath(key, 'key')).toEqual(names.map((name) => ({ kind: 'property', name })));
  });

  it('reads a filter with its own path and value', () => {
    const [status, conditions, filter, last] = parsePath(
      'status.conditions[type=healthy].status',
      'key',
    );
    expect(status).toEqual({ kind: 'property', name: 'status' });
    expect(conditions).toEqual({ kind: 'property', name: 'conditions' });
    expect(filter).toMatchObject({
      kind: 'filter',
      path: [{ kind: 'property', name: 'type' }],
      value: 'healthy',
    });
    expect(last).toEqual({ kind: 'property', name: 'status' });
  });

  it.each([
    ['a[type="has space"]', 'has space'],
    ["a[type='x]y']", 'x]y'],
    ['a[version=1.2]', '1.2'],
    ['a[expr=a=b]', 'a=b'],
    ['a[meta.kind=x]', 'x'],
    ['a[["a.b"]=x]', 'x'],
    ['a[type=""]', ''],
  ])('reads the filter %j with value %j', (key, value) => {
    expect(parsePath(key, 'key')[1]).toMatchObject({ kind: 'filter', value });
  });

  it.each([
    ['', 'must not be empty'],
    ['a..b', 'invalid key "a..b": empty property name at offset 2'],
    ['.a', 'invalid key ".a": empty property name at offset 0'],
    ['a.', 'invalid key "a.": empty property name at offset 2'],
    ['a[b', 'invalid key "a[b": unclosed "[" at offset 1'],
    ['a["b"', 'invalid key "a[\\"b\\"": unclosed "[" at offset 1'],
    ['a["b', 'invalid key "a[\\"b": unterminated quote at offset 2'],
    ['a["b\\', 'invalid key "a[\\"b\\\\": unterminated quote at offset 2'],
    ['a[]', 'invalid key "a[]": empty "[]" at offset 1; expected a filter such as [type=healthy]'],
    [
      'a[0]',
      'invalid key "a[0]": "[" at offset 1 is neither a quoted name nor a filter such as [type=x]',
    ],
    ['a[""]', 'invalid key "a[\\"\\"]": empty property name at offset 1'],
    ['a[type=]', 'invalid key "a[type=]": empty filter value at offset 7'],
    ['a[=x]', 'invalid key "a[=x]": unexpected "=" at offset 2'],
    ['a[b[c=d]=e]', 'invalid key "a[b[c=d]=e]": filters cannot be nested (offset 3)'],
    ['a[t=x]b', 'invalid key "a[t=x]b": unexpected "b" at offset 6'],
    ['a[t=x y]', 'invalid key "a[t=x y]": unexpected " " at offset 5'],
    ['a.[b]', 'invalid key "a.[b]": unexpected "[" at offset 2'],
    ['a]', 'invalid key "a]": unexpected "]" at offset 1'],
    ['a=b', 'invalid key "a=b": unexpected "=" at offset 1'],
    ['status. health', 'invalid key "status. health": unexpected " " at offset 7'],
    ['status.health ', 'invalid key "status.health ": unexpected " " at offset 13'],
    ['a["x\\n"]', 'invalid key "a[\\"x\\\\n\\"]": unknown escape at offset 4; only \\" and \\\\'],
    ['a"b', 'invalid key "a\\"b": unexpected "\\"" at offset 1'],
  ])('rejects %j', (key, problem) => {
    const error = validationError(() => parsePath(key, 'spec.requirements[0].key'));
    expect(error.field).toBe('spec.requirements[0].key');
    expect(error.problem).toBe(problem);
  });
});

describe('walk', () => {
  const node = {
    meta: { name: 'n1', labels: { rack: 'r1', 'app.kubernetes.io/name': 'db' } },
    status: {
      health: 'down',
      load: 0.75,
      ready: false,
      nothing: null,
      empty: [],
      tags: ['a', 'b'],
      matrix: [[1, [2, 3]], [], [[4]]],
      mixed: ['x', null, { deep: 1 }, 2, true, ['y']],
      conditions: [
        { type: 'healthy', status: 'false', since: '2024-01-01T00:00:00Z' },
        { type: 'ready', status: 'true' },
        { type: 'healthy', status: 'unknown' },
        { type: ['disk', 'healthy'], status: 'multi' },
        { type: 5, status: 'five' },
        { type: true, status: 'yes' },
        'not an object',
        null,
      ],
      single: { type: 'healthy', status: 'ok' },
      byVersion: [
        { version: 1.2, id: 'a' },
        { version: '1.20', id: 'b' },
      ],
    },
  };

  it.each([
    ['status.health', ['down']],
    ['status.load', [0.75]],
    ['status.ready', [false]],
    ['meta.labels.rack', ['r1']],
    ['meta.labels["app.kubernetes.io/name"]', ['db']],
    ["meta['labels']['rack']", ['r1']],
    ['status.missing', []],
    ['status.health.deeper', []],
    ['missing.entirely', []],
    ['status.nothing', []],
    ['status', []],
    ['meta.labels', []],
    ['status.empty', []],
    ['status.tags', ['a', 'b']],
    ['status.matrix', [1, 2, 3, 4]],
    ['status.mixed', ['x', 2, true, 'y']],
    ['status.mixed.deep', [1]],
    ['status.conditions.status', ['false', 'true', 'unknown', 'multi', 'five', 'yes']],
    ['status.conditions.type', ['healthy', 'ready', 'healthy', 'disk', 'healthy', 5, true]],
    ['status.conditions[type=healthy].status', ['false', 'unknown', 'multi']],
    ['status.conditions[type=ready].status', ['true']],
    ['status.conditions[type=absent].status', []],
    ['status.conditions[status=unknown].type', ['healthy']],
    ['status.conditions[type=5].status', ['five']],
    ['status.conditions[type=5.0].status', ['five']],
    ['status.conditions[type=true].status', ['yes']],
    ['status.conditions[type=healthy][status=false].since', ['2024-01-01T00:00:00Z']],
    ['status.conditions[type=healthy]', []],
    ['status.single[type=healthy].status', ['ok']],
    ['status.single[type=ready].status', []],
    ['status.health[type=x]', []],
    ['status.byVersion[version=1.2].id', ['a']],
    ['status.byVersion[version=1.20].id', ['a', 'b']],
    ['status.byVersion[version="1.20"].id', ['a', 'b']],
  ])('%s yields %j', (key, expected) => {
    expect(yields(node, key)).toEqual(expected);
  });

  it('fans out an array at the top of the document', () => {
    expect(yields([{ a: 1 }, { a: [2, { a: 3 }] }], 'a')).toEqual([1, 2]);
  });

  it.each([null, undefined, 'text', 5, true])('yields nothing from the document %j', (document) => {
    expect(yields(document, 'a.b')).toEqual([]);
  });

  it('reads own properties only, never the prototype', () => {
    expect(yields({}, 'constructor.name')).toEqual([]);
    expect(yields({ a: 'x' }, 'a.length')).toEqual([]);
    expect(yields([], 'length')).toEqual([]);
    expect(yields(JSON.parse('{"__proto__": {"x": 1}}'), '__proto__.x')).toEqual([1]);
    expect(yields({ hasOwnProperty: 'own' }, 'hasOwnProperty')).toEqual(['own']);
  });

  it('stops when the visitor asks', () => {
    const seen: Scalar[] = [];
    const stopped = walk({ a: [1, 2, 3] }, parsePath('a', 'key'), {
      visit: (value) => {
        seen.push(value);
        return value === 2;
      },
    });
    expect(stopped).toBe(true);
    expect(seen).toEqual([1, 2]);
  });

  it('yields nothing from arrays nested absurdly deep instead of overflowing the stack', () => {
    const depth = 100_000;
    const deep: unknown = JSON.parse(`${'['.repeat(depth)}1${']'.repeat(depth)}`);
    expect(yields({ a: deep }, 'a')).toEqual([]);
    expect(yields({ a: [[[[1]]]] }, 'a')).toEqual([1]);
  });
});
