import { describe, expect, it } from 'vitest';

import {
  ALERT_KIND,
  DESTINATION_KIND,
  formatKey,
  isManagedKind,
  kindPrefix,
  normalizePrefix,
  parseKey,
  POLICY_KIND,
} from '../../src/model/index.js';
import { validationError } from './validation.js';

const node = { kind: 'Node', tenant: 'default', name: 'n1' };

describe('formatKey', () => {
  it.each([
    ['/objects', '/objects/Node/default/n1'],
    ['/objects/', '/objects/Node/default/n1'],
    ['/objects//', '/objects/Node/default/n1'],
    ['/', '/Node/default/n1'],
    ['', '/Node/default/n1'],
    ['/a/b', '/a/b/Node/default/n1'],
  ])('under prefix %j gives %j', (prefix, expected) => {
    expect(formatKey(prefix, node)).toBe(expected);
  });

  it.each([
    [{ ...node, kind: '' }, 'kind: must not be empty'],
    [{ ...node, tenant: '' }, 'meta.tenant: must not be empty'],
    [{ ...node, name: '' }, 'meta.name: must not be empty'],
    [{ ...node, name: 'a/b' }, 'meta.name: "a/b" must not contain "/"'],
    [{ ...node, tenant: 't/1' }, 'meta.tenant: "t/1" must not contain "/"'],
  ])('refuses %j', (ref, message) => {
    expect(validationError(() => formatKey('/objects', ref)).message).toBe(message);
  });
});

describe('parseKey', () => {
  it.each([
    ['/objects', '/objects/Node/default/n1', node],
    ['/objects/', '/objects/Node/default/n1', node],
    ['/objects', '/objects/AlertPolicy/t1/p.1', { kind: 'AlertPolicy', tenant: 't1', name: 'p.1' }],
    ['', '/Node/default/n1', node],
  ])('under prefix %j reads %j', (prefix, key, expected) => {
    expect(parseKey(prefix, key)).toEqual(expected);
  });

  it.each([
    ['/other/Node/default/n1', '"/other/Node/default/n1" is not under the prefix "/objects/"'],
    [
      '/objectsX/Node/default/n1',
      '"/objectsX/Node/default/n1" is not under the prefix "/objects/"',
    ],
    ['/objects', '"/objects" is not under the prefix "/objects/"'],
    [
      '/objects/Node/default',
      '"/objects/Node/default" does not have the form /objects/<Kind>/<tenant>/<name>',
    ],
    [
      '/objects/Node/default/n1/x',
      '"/objects/Node/default/n1/x" does not have the form /objects/<Kind>/<tenant>/<name>',
    ],
    [
      '/objects/Node/default/n1/',
      '"/objects/Node/default/n1/" does not have the form /objects/<Kind>/<tenant>/<name>',
    ],
    ['/objects//default/n1', '"/objects//default/n1" has an empty kind'],
    ['/objects/Node//n1', '"/objects/Node//n1" has an empty tenant'],
    ['/objects/Node/default/', '"/objects/Node/default/" has an empty name'],
  ])('refuses %j', (key, problem) => {
    const error = validationError(() => parseKey('/objects', key));
    expect(error.field).toBe('key');
    expect(error.problem).toBe(problem);
  });

  it('reads back what formatKey writes', () => {
    const ref = { kind: 'DistributedServiceCard', tenant: 'acme', name: 'dsc-01.rack2' };
    expect(parseKey('/objects/', formatKey('/objects', ref))).toEqual(ref);
  });
});

describe('kindPrefix and normalizePrefix', () => {
  it('ends a kind prefix with a slash whatever the prefix', () => {
    expect(kindPrefix('/objects', 'Node')).toBe('/objects/Node/');
    expect(kindPrefix('/objects/', 'Alert')).toBe('/objects/Alert/');
  });

  it('drops only trailing slashes', () => {
    expect(normalizePrefix('/objects///')).toBe('/objects');
    expect(normalizePrefix('/a//b')).toBe('/a//b');
  });
});

describe('isManagedKind', () => {
  it.each([
    [ALERT_KIND, false],
    [POLICY_KIND, false],
    [DESTINATION_KIND, false],
    ['Node', true],
    ['DistributedServiceCard', true],
    ['alert', true],
  ])('%j → %j', (kind, expected) => {
    expect(isManagedKind(kind)).toBe(expected);
  });

  it('names the three alert kinds as the contract spells them', () => {
    expect([ALERT_KIND, POLICY_KIND, DESTINATION_KIND]).toEqual([
      'Alert',
      'AlertPolicy',
      'AlertDestination',
    ]);
  });
});
