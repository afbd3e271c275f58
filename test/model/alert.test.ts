import { createHash } from 'node:crypto';

import { describe, expect, it } from 'vitest';

import { alertName, decodeAlert, decodeObject, type ObjectRef } from '../../src/model/index.js';
import { validationError } from './validation.js';

const node: ObjectRef = { kind: 'Node', tenant: 'default', name: 'n1' };

function sha10(text: string): string {
  return createHash('sha256').update(text).digest('hex').slice(0, 10);
}

describe('alertName', () => {
  it('is <policy name>-<object name>-<10 hex of the hash>', () => {
    expect(alertName('node-down/42', node)).toBe(
      `node-down-n1-${sha10('node-down/42\nNode\ndefault\nn1')}`,
    );
  });

  it('is deterministic', () => {
    expect(alertName('p/1', node)).toBe(alertName('p/1', { ...node }));
  });

  it.each([
    ['another policy uid', 'p/2', node],
    ['another policy name', 'q/1', node],
    ['another object kind', 'p/1', { ...node, kind: 'Pod' }],
    ['another tenant', 'p/1', { ...node, tenant: 'other' }],
    ['another object name', 'p/1', { ...node, name: 'n2' }],
  ])('differs for %s', (_case, policyId, object) => {
    expect(alertName(policyId, object)).not.toBe(alertName('p/1', node));
  });

  it('keeps names apart that sanitise to the same text', () => {
    const a = alertName('p/1', { ...node, name: 'N_1' });
    const b = alertName('p/1', { ...node, name: 'n-1' });
    expect(a.startsWith('p-n-1-')).toBe(true);
    expect(b.startsWith('p-n-1-')).toBe(true);
    expect(a).not.toBe(b);
  });

  it.each([
    ['Node-Down/9', { ...node, name: 'DSC_01' }, /^node-down-dsc-01-[0-9a-f]{10}$/],
    ['p/uid/with/slashes', { ...node, name: 'a.b' }, /^p-a\.b-[0-9a-f]{10}$/],
    ['nouid', { ...node, name: 'x y:z' }, /^nouid-x-y-z-[0-9a-f]{10}$/],
    ['ünïcode/1', { ...node, name: '名前' }, /^-n-code----[0-9a-f]{10}$/],
  ])('sanitises %j and %j', (policyId, object, pattern) => {
    expect(alertName(policyId, object)).toMatch(pattern);
  });

  it('cuts each readable part to 60 characters and is a safe key segment', () => {
    const name = alertName(`${'P'.repeat(100)}/1`, { ...node, name: 'n'.repeat(200) });
    expect(name).toBe(`${'p'.repeat(60)}-${'n'.repeat(60)}-${name.slice(-10)}`);
    expect(name).toMatch(/^[a-z0-9.-]+$/);
  });
});

const KEY = '/objects/Alert/default/node-down-n1-0123456789';

function decode(document: object) {
  const { ref, object } = decodeObject('/objects', KEY, JSON.stringify(document));
  return decodeAlert(ref, object);
}

const full = {
  kind: 'Alert',
  meta: {
    name: 'node-down-n1-0123456789',
    tenant: 'default',
    creationTime: '2024-01-01T00:00:00Z',
    modTime: '2024-01-01T00:05:00Z',
  },
  spec: { state: 'acknowledged' },
  status: {
    severity: 'critical',
    message: 'node down',
    objectRef: node,
    reason: {
      policyId: 'node-down/42',
      matchedRequirements: [
        { key: 'status.health', operator: 'equals', values: ['down'], observedValue: 'down' },
      ],
    },
    acknowledged: { user: 'alice', time: '2024-01-01T00:05:00Z' },
    totalHits: 3,
  },
};

describe('decodeAlert', () => {
  it('returns a well-formed alert as it is', () => {
    expect(decode(full)).toEqual(full);
  });

  it('fills descriptive fields that are missing', () => {
    const alert = decode({
      spec: { state: 'open' },
      status: { objectRef: node, reason: { policyId: 'p/1' }, acknowledged: null },
    });
    expect(alert.status).toEqual({
      severity: 'info',
      message: '',
      objectRef: node,
      reason: { policyId: 'p/1', matchedRequirements: [] },
      totalHits: 0,
    });
    expect(alert.meta).toEqual({ name: 'node-down-n1-0123456789', tenant: 'default' });
  });

  const status = full.status;
  it.each([
    ['no spec', { ...full, spec: undefined }, 'spec: required'],
    [
      'unknown state',
      { ...full, spec: { state: 'closed' } },
      'spec.state: expected open, acknowledged or resolved, got "closed"',
    ],
    [
      'missing state',
      { ...full, spec: {} },
      'spec.state: expected open, acknowledged or resolved, got undefined',
    ],
    ['no status', { ...full, status: undefined }, 'status: required'],
    [
      'no objectRef',
      { ...full, status: { ...status, objectRef: undefined } },
      'status.objectRef: required',
    ],
    [
      'objectRef without name',
      { ...full, status: { ...status, objectRef: { kind: 'Node', tenant: 'default' } } },
      'status.objectRef.name: required',
    ],
    [
      'no policy id',
      { ...full, status: { ...status, reason: {} } },
      'status.reason.policyId: required',
    ],
    [
      'unknown severity',
      { ...full, status: { ...status, severity: 'fatal' } },
      'status.severity: unknown severity "fatal"; expected one of info, warn, critical',
    ],
    [
      'negative totalHits',
      { ...full, status: { ...status, totalHits: -1 } },
      'status.totalHits: expected a whole number of at least 0, got -1',
    ],
    [
      'fractional totalHits',
      { ...full, status: { ...status, totalHits: 1.5 } },
      'status.totalHits: expected a whole number of at least 0, got 1.5',
    ],
    [
      'totalHits as text',
      { ...full, status: { ...status, totalHits: '3' } },
      'status.totalHits: expected a whole number of at least 0, got a string',
    ],
    [
      'acknowledged without user',
      { ...full, status: { ...status, acknowledged: { time: 'x' } } },
      'status.acknowledged.user: required',
    ],
    [
      'matchedRequirements not an array',
      { ...full, status: { ...status, reason: { policyId: 'p/1', matchedRequirements: {} } } },
      'status.reason.matchedRequirements: expected an array, got an object',
    ],
    [
      'matched value not text',
      {
        ...full,
        status: {
          ...status,
          reason: {
            policyId: 'p/1',
            matchedRequirements: [{ key: 'k', operator: 'in', values: [1] }],
          },
        },
      },
      'status.reason.matchedRequirements[0].values[0]: expected a string, got a number',
    ],
  ])('rejects %s', (_case, document, message) => {
    expect(validationError(() => decode(document)).message).toBe(message);
  });

  it('refuses an object that is not an Alert', () => {
    const { ref, object } = decodeObject('/objects', '/objects/Node/default/n1', '{}');
    expect(validationError(() => decodeAlert(ref, object)).message).toBe(
      'kind: expected "Alert", got "Node"',
    );
  });
});
