import { describe, expect, it } from 'vitest';

import { compilePolicy, decodeObject, type CompiledPolicy } from '../../src/model/index.js';
import { validationError } from './validation.js';

const DEFAULTS = { clearDurationMs: 2_000 };
const REQUIREMENT = { key: 'status.health', operator: 'equals', values: ['down'] };

function compile(document: object, revision = 42, name = 'node-down'): CompiledPolicy {
  const key = `/objects/AlertPolicy/t1/${name}`;
  const { ref, object } = decodeObject('/objects', key, JSON.stringify(document));
  return compilePolicy(ref, object, revision, DEFAULTS);
}

const minimal = (spec: object = {}) => ({
  spec: { resource: 'Node', requirements: [REQUIREMENT], ...spec },
});

describe('compilePolicy defaults', () => {
  it('fills every default of the contract', () => {
    const policy = compile(minimal());
    expect(policy).toMatchObject({
      id: 'node-down/42',
      ref: { kind: 'AlertPolicy', tenant: 't1', name: 'node-down' },
      resource: 'Node',
      severity: 'info',
      message: '',
      persistenceMs: 0,
      clearMs: 2_000,
      enabled: true,
      destinations: [],
    });
    expect(policy.matcher.requirements).toEqual([REQUIREMENT]);
  });

  it('treats null fields as absent', () => {
    const policy = compile(
      minimal({
        severity: null,
        message: null,
        clearDuration: null,
        enable: null,
        destinations: null,
      }),
    );
    expect(policy).toMatchObject({ severity: 'info', message: '', clearMs: 2_000, enabled: true });
  });

  it('takes every field the spec gives', () => {
    const policy = compile(
      minimal({
        severity: 'critical',
        message: 'node is down',
        persistenceDuration: '5s',
        clearDuration: '1m30s',
        enable: false,
        destinations: ['syslog-main', 'hook', 'syslog-main'],
      }),
    );
    expect(policy).toMatchObject({
      severity: 'critical',
      message: 'node is down',
      persistenceMs: 5_000,
      clearMs: 90_000,
      enabled: false,
      destinations: ['syslog-main', 'hook'],
    });
  });

  it('takes numbers and booleans in values as their text', () => {
    const policy = compile(
      minimal({
        requirements: [{ key: 'status.up', operator: 'in', values: [5, true, 1.5, 'x'] }],
      }),
    );
    expect(policy.matcher.requirements[0]?.values).toEqual(['5', 'true', '1.5', 'x']);
  });

  it('gives a matcher that applies the requirements', () => {
    const { matcher } = compile(minimal());
    expect(matcher.match({ status: { health: 'down' } })).toHaveLength(1);
    expect(matcher.match({ status: { health: 'up' } })).toBeUndefined();
  });
});

describe('compilePolicy id', () => {
  it('uses meta.uuid when present', () => {
    expect(compile({ ...minimal(), meta: { uuid: 'b6f1' } }).id).toBe('node-down/b6f1');
  });

  it('uses the create revision in decimal without meta.uuid', () => {
    expect(compile(minimal(), 1234567).id).toBe('node-down/1234567');
  });

  it('treats an empty uuid as absent', () => {
    expect(compile({ ...minimal(), meta: { uuid: '' } }, 7).id).toBe('node-down/7');
  });

  it('makes a new id when a policy without uuid is created again', () => {
    expect(compile(minimal(), 10).id).not.toBe(compile(minimal(), 11).id);
  });

  it('keeps the id when only the revision changes but the uuid stays', () => {
    const withUuid = { ...minimal(), meta: { uuid: 'u1' } };
    expect(compile(withUuid, 10).id).toBe(compile(withUuid, 99).id);
  });

  it('needs a usable create revision when there is no uuid', () => {
    expect(() => compile(minimal(), 0)).toThrow(RangeError);
    expect(() => compile(minimal(), 1.5)).toThrow(RangeError);
  });
});

describe('compilePolicy validation', () => {
  const spec = minimal().spec;

  it.each([
    ['no spec', {}, 'spec', 'spec: required'],
    ['spec not an object', { spec: [] }, 'spec', 'spec: expected an object, got an array'],
    [
      'missing resource',
      { spec: { ...spec, resource: undefined } },
      'spec.resource',
      'spec.resource: required',
    ],
    [
      'empty resource',
      { spec: { ...spec, resource: '' } },
      'spec.resource',
      'spec.resource: must not be empty',
    ],
    [
      'resource with a slash',
      { spec: { ...spec, resource: 'a/b' } },
      'spec.resource',
      'spec.resource: "a/b" must not contain "/"',
    ],
    [
      'alert kind as resource',
      { spec: { ...spec, resource: 'Alert' } },
      'spec.resource',
      'spec.resource: "Alert" is one of alertmgr\'s own kinds, not a managed object kind',
    ],
    [
      'unknown severity',
      { spec: { ...spec, severity: 'error' } },
      'spec.severity',
      'spec.severity: unknown severity "error"; expected one of info, warn, critical',
    ],
    [
      'severity in the wrong case',
      { spec: { ...spec, severity: 'Critical' } },
      'spec.severity',
      'spec.severity: unknown severity "Critical"; expected one of info, warn, critical',
    ],
    [
      'message not text',
      { spec: { ...spec, message: 5 } },
      'spec.message',
      'spec.message: expected a string, got a number',
    ],
    [
      'missing requirements',
      { spec: { ...spec, requirements: undefined } },
      'spec.requirements',
      'spec.requirements: required',
    ],
    [
      'empty requirements',
      { spec: { ...spec, requirements: [] } },
      'spec.requirements',
      'spec.requirements: must hold at least one requirement',
    ],
    [
      'unknown operator',
      { spec: { ...spec, requirements: [REQUIREMENT, { ...REQUIREMENT, operator: 'Equals' }] } },
      'spec.requirements[1].operator',
      'spec.requirements[1].operator: unknown operator "Equals"; ' +
        'expected one of equals, notEquals, in, notIn, gt, gte, lt, lte',
    ],
    [
      'empty values',
      { spec: { ...spec, requirements: [{ ...REQUIREMENT, values: [] }] } },
      'spec.requirements[0].values',
      'spec.requirements[0].values: must hold at least one value',
    ],
    [
      'relational operator with two values',
      { spec: { ...spec, requirements: [{ ...REQUIREMENT, operator: 'gt', values: [1, 2] }] } },
      'spec.requirements[0].values',
      'spec.requirements[0].values: operator "gt" takes exactly one value, got 2',
    ],
    [
      'unparseable key',
      { spec: { ...spec, requirements: [{ ...REQUIREMENT, key: 'status..health' }] } },
      'spec.requirements[0].key',
      'spec.requirements[0].key: invalid key "status..health": empty property name at offset 7',
    ],
    [
      'bad persistenceDuration',
      { spec: { ...spec, persistenceDuration: '5' } },
      'spec.persistenceDuration',
      'spec.persistenceDuration: invalid duration "5": ' +
        'expected a number with a unit such as 300ms, 2s, 5m or 24h',
    ],
    [
      'negative clearDuration',
      { spec: { ...spec, clearDuration: '-2s' } },
      'spec.clearDuration',
      'spec.clearDuration: invalid duration "-2s": ' +
        'expected a number with a unit such as 300ms, 2s, 5m or 24h',
    ],
    [
      'enable not a boolean',
      { spec: { ...spec, enable: 'yes' } },
      'spec.enable',
      'spec.enable: expected true or false, got a string',
    ],
    [
      'destinations not an array',
      { spec: { ...spec, destinations: 'syslog-main' } },
      'spec.destinations',
      'spec.destinations: expected an array, got a string',
    ],
    [
      'destination not a string',
      { spec: { ...spec, destinations: ['a', 5] } },
      'spec.destinations[1]',
      'spec.destinations[1]: expected a string, got a number',
    ],
    [
      'empty destination name',
      { spec: { ...spec, destinations: [''] } },
      'spec.destinations[0]',
      'spec.destinations[0]: must not be empty',
    ],
  ])('rejects %s', (_case, document, field, message) => {
    const error = validationError(() => compile(document));
    expect(error.field).toBe(field);
    expect(error.message).toBe(message);
  });

  it('refuses an object that is not an AlertPolicy', () => {
    const { ref, object } = decodeObject(
      '/objects',
      '/objects/Node/t1/n1',
      JSON.stringify(minimal()),
    );
    const error = validationError(() => compilePolicy(ref, object, 1, DEFAULTS));
    expect(error.message).toBe('kind: expected "AlertPolicy", got "Node"');
  });
});

describe('compilePolicy specHash', () => {
  const base = compile(minimal({ severity: 'warn' })).specHash;

  it('is a sha256 hex digest', () => {
    expect(base).toMatch(/^[0-9a-f]{64}$/);
  });

  it('ignores key order, spelled-out defaults and numbers written as text', () => {
    const reordered = {
      spec: {
        enable: true,
        requirements: [{ values: ['down'], operator: 'equals', key: 'status.health' }],
        clearDuration: '2s',
        severity: 'warn',
        persistenceDuration: '0ms',
        resource: 'Node',
        message: '',
        destinations: [],
      },
    };
    expect(compile(reordered).specHash).toBe(base);
    const numeric = (values: unknown[]) =>
      compile(minimal({ requirements: [{ key: 'a', operator: 'in', values }] })).specHash;
    expect(numeric([5])).toBe(numeric(['5']));
  });

  it('ignores the id: the uuid and revision are not part of the spec', () => {
    expect(compile({ ...minimal({ severity: 'warn' }), meta: { uuid: 'x' } }, 9).specHash).toBe(
      base,
    );
  });

  it.each([
    ['severity', { severity: 'critical' }],
    ['message', { severity: 'warn', message: 'm' }],
    ['resource', { severity: 'warn', resource: 'Pod' }],
    ['clearDuration', { severity: 'warn', clearDuration: '3s' }],
    ['persistenceDuration', { severity: 'warn', persistenceDuration: '1s' }],
    ['enable', { severity: 'warn', enable: false }],
    ['destinations', { severity: 'warn', destinations: ['d'] }],
    ['requirements', { severity: 'warn', requirements: [{ ...REQUIREMENT, values: ['up'] }] }],
  ])('changes with %s', (_field, spec) => {
    expect(compile(minimal(spec)).specHash).not.toBe(base);
  });

  it('changes with the default clear duration when the spec has none', () => {
    const { ref, object } = decodeObject(
      '/objects',
      '/objects/AlertPolicy/t1/node-down',
      JSON.stringify(minimal({ severity: 'warn' })),
    );
    expect(compilePolicy(ref, object, 42, { clearDurationMs: 5_000 }).specHash).not.toBe(base);
  });
});
