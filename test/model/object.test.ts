import { describe, expect, it } from 'vitest';

import { decodeObject } from '../../src/model/index.js';
import { validationError } from './validation.js';

const KEY = '/objects/Node/t1/n1';
const decode = (value: unknown) => decodeObject('/objects', KEY, JSON.stringify(value));

describe('decodeObject', () => {
  it('fills kind, tenant and name from the key when the JSON leaves them out', () => {
    const { ref, object } = decode({ status: { health: 'up' } });
    expect(ref).toEqual({ kind: 'Node', tenant: 't1', name: 'n1' });
    expect(object).toEqual({
      kind: 'Node',
      meta: { name: 'n1', tenant: 't1' },
      status: { health: 'up' },
    });
  });

  it('keeps fields that agree with the key and fields it does not know', () => {
    const document = {
      kind: 'Node',
      meta: {
        name: 'n1',
        tenant: 't1',
        uuid: 'u-1',
        labels: { rack: 'r1', 'app.kubernetes.io/name': 'x' },
        creationTime: '2024-01-01T00:00:00Z',
        owner: { team: 'infra' },
      },
      spec: { size: 3 },
      extra: [1, 2],
    };
    expect(decode(document).object).toEqual(document);
  });

  it('treats null kind, meta, tenant and name as absent', () => {
    const { object } = decode({ kind: null, meta: { tenant: null, name: null, uuid: null } });
    expect(object.kind).toBe('Node');
    expect(object.meta).toEqual({ tenant: 't1', name: 'n1' });
    expect(decode({ meta: null }).object.meta).toEqual({ name: 'n1', tenant: 't1' });
  });

  it('reads UTF-8 bytes as well as text', () => {
    const bytes = new TextEncoder().encode('{"status":{"note":"größe ✓"}}');
    const { object } = decodeObject('/objects/', KEY, bytes);
    expect(object.status).toEqual({ note: 'größe ✓' });
  });

  it.each([
    [{ kind: 'Pod' }, 'kind', 'kind: "Pod" disagrees with the key\'s kind "Node"'],
    [
      { meta: { tenant: 't2' } },
      'meta.tenant',
      'meta.tenant: "t2" disagrees with the key\'s tenant "t1"',
    ],
    [{ meta: { name: 'N1' } }, 'meta.name', 'meta.name: "N1" disagrees with the key\'s name "n1"'],
    [{ kind: 5 }, 'kind', 'kind: expected a string, got a number'],
    [{ meta: [] }, 'meta', 'meta: expected an object, got an array'],
    [{ meta: 'x' }, 'meta', 'meta: expected an object, got a string'],
    [{ meta: { tenant: {} } }, 'meta.tenant', 'meta.tenant: expected a string, got an object'],
    [{ meta: { uuid: 7 } }, 'meta.uuid', 'meta.uuid: expected a string, got a number'],
    [
      { meta: { modTime: false } },
      'meta.modTime',
      'meta.modTime: expected a string, got a boolean',
    ],
    [{ meta: { labels: ['a'] } }, 'meta.labels', 'meta.labels: expected an object, got an array'],
    [
      { meta: { labels: { rack: 1 } } },
      'meta.labels.rack',
      'meta.labels.rack: expected a string, got a number',
    ],
    [
      { meta: { labels: { 'a.io/x': null } } },
      'meta.labels["a.io/x"]',
      'meta.labels["a.io/x"]: expected a string, got null',
    ],
  ])('rejects %j', (document, field, message) => {
    const error = validationError(() => decode(document));
    expect(error.field).toBe(field);
    expect(error.message).toBe(message);
  });

  it.each([
    ['[]', 'value: expected a JSON object, got an array'],
    ['null', 'value: expected a JSON object, got null'],
    ['42', 'value: expected a JSON object, got a number'],
    ['"text"', 'value: expected a JSON object, got a string'],
  ])('rejects the JSON value %s', (text, message) => {
    expect(validationError(() => decodeObject('/objects', KEY, text)).message).toBe(message);
  });

  it('rejects invalid JSON with a one-line message that names the value', () => {
    const error = validationError(() => decodeObject('/objects', KEY, '{"a":\n\n tru }'));
    expect(error.field).toBe('value');
    expect(error.message).toMatch(/^value: not valid JSON: \S/);
    expect(error.message).not.toMatch(/\n/);
  });

  it('rejects an empty value', () => {
    expect(validationError(() => decodeObject('/objects', KEY, '')).message).toMatch(
      /^value: not valid JSON: /,
    );
  });

  it('rejects bytes that are not UTF-8', () => {
    const bytes = new Uint8Array([0x7b, 0xff, 0xfe, 0x7d]);
    expect(validationError(() => decodeObject('/objects', KEY, bytes)).message).toBe(
      'value: not valid UTF-8',
    );
  });

  it('rejects a key that is not kind/tenant/name under the prefix', () => {
    const error = validationError(() => decodeObject('/objects', '/objects/Node/n1', '{}'));
    expect(error.field).toBe('key');
  });

  it('keeps a "__proto__" field as plain data', () => {
    const { object } = decodeObject('/objects', KEY, '{"__proto__":{"polluted":true}}');
    expect(Object.getPrototypeOf(object)).toBe(Object.prototype);
    expect(Object.hasOwn(object, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});
