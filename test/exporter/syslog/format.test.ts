import { describe, expect, it } from 'vitest';

import {
  asciiSafe,
  BSD_MAX_BYTES,
  bsdTimestamp,
  escapeParamValue,
  formatBsd,
  formatMessage,
  formatRfc5424,
  oneLine,
  priority,
  type SyslogOrigin,
} from '../../../src/exporter/syslog/format.js';
import { makeNotification } from './fixtures.js';

const origin: SyslogOrigin = {
  facilityCode: 16, // local0
  appName: 'alertmgr',
  hostname: 'host1',
  procId: '4242',
};
const time = new Date('2026-03-04T05:06:07.890Z');
const BOM = '\uFEFF';

const SD =
  '[alert@32473 notificationId="node-down-n1-0123456789:3:open" event="open"' +
  ' name="node-down-n1-0123456789" tenant="default" policyId="node-down/42"' +
  ' severity="critical" totalHits="3"]' +
  '[object@32473 kind="Node" tenant="default" name="n1"]';

describe('priority', () => {
  it.each([
    [1, 'critical', 10],
    [1, 'warn', 12],
    [1, 'info', 14],
    [16, 'critical', 130],
    [23, 'info', 190],
    [0, 'warn', 4],
  ] as const)('facility %i, severity %s is %i', (facility, severity, expected) => {
    expect(priority(facility, severity)).toBe(expected);
  });
});

describe('formatRfc5424', () => {
  it('writes header, structured data and message', () => {
    expect(formatRfc5424(makeNotification(), origin, time)).toBe(
      `<130>1 2026-03-04T05:06:07.890Z host1 alertmgr 4242 open ${SD}` +
        ' open critical Node default/n1: node is down',
    );
  });

  it('uses the new state as MSGID; a reopen is open, its event says reopen', () => {
    const reopen = formatRfc5424(makeNotification({ event: 'reopen' }), origin, time);
    expect(reopen.split(' ')[5]).toBe('open');
    expect(reopen).toContain(' event="reopen" ');

    for (const state of ['acknowledged', 'resolved', 'deleted'] as const) {
      const text = formatRfc5424(makeNotification({ state, severity: 'info' }), origin, time);
      expect(
        text.startsWith(`<134>1 2026-03-04T05:06:07.890Z host1 alertmgr 4242 ${state} [`),
      ).toBe(true);
      expect(text).toContain(`notificationId="node-down-n1-0123456789:3:${state}"`);
      expect(text.endsWith(` ${state} info Node default/n1: node is down`)).toBe(true);
    }
  });

  it('leaves the colon out when the policy has no message', () => {
    const text = formatRfc5424(makeNotification({ message: '' }), origin, time);
    expect(text.endsWith('] open critical Node default/n1')).toBe(true);
  });

  it('escapes ", \\ and ] in SD-PARAM values', () => {
    const object = { kind: 'Node', tenant: 'default', name: 'a"b\\c]d[e' };
    const text = formatRfc5424(makeNotification({ object }), origin, time);
    expect(text).toContain('[object@32473 kind="Node" tenant="default" name="a\\"b\\\\c\\]d[e"]');
  });

  it('puts a BOM before non-ASCII text and only then', () => {
    const plain = formatRfc5424(makeNotification(), origin, time);
    expect(plain).not.toContain(BOM);

    const text = formatRfc5424(makeNotification({ message: 'Überhitzung 🔥' }), origin, time);
    expect(text.endsWith(`] ${BOM}open critical Node default/n1: Überhitzung 🔥`)).toBe(true);
    expect(text.indexOf(BOM)).toBe(text.lastIndexOf(BOM));
  });

  it('turns every line break into one space, in the message and in SD values', () => {
    const message = 'one\ntwo\r\nthree\rfour\u2028five\u0085six\tseven';
    const object = { kind: 'Node', tenant: 'default', name: 'n\n1' };
    const text = formatRfc5424(makeNotification({ message, object }), origin, time);
    expect(text).not.toMatch(/[\r\n\u0085\u2028\u2029\t]/);
    expect(text).toContain(' name="n 1"]');
    expect(text.endsWith(': one two three four five six seven')).toBe(true);
  });

  it('makes the host name fit the header and writes - for a time that is not valid', () => {
    const spaced = { ...origin, hostname: 'my host' };
    const text = formatRfc5424(makeNotification(), spaced, new Date(Number.NaN));
    expect(text.startsWith('<130>1 - my_host alertmgr 4242 open [')).toBe(true);
  });
});

describe('formatBsd', () => {
  const header = '<130>Mar  4 05:06:07 host1 alertmgr[4242]: ';
  const ids = 'alert=node-down-n1-0123456789 policy=node-down/42 hits=3';

  it('writes header and content with the identifiers before the message', () => {
    expect(formatBsd(makeNotification(), origin, time, 0)).toBe(
      `${header}open critical Node default/n1 ${ids} id=node-down-n1-0123456789:3:open:` +
        ' node is down',
    );
  });

  it('writes the timestamp in the given offset from UTC', () => {
    const text = formatBsd(makeNotification(), origin, time, 120);
    expect(text.startsWith('<130>Mar  4 07:06:07 host1 ')).toBe(true);
  });

  it('escapes what is not ASCII', () => {
    const text = formatBsd(makeNotification({ message: 'é 🔥 ok' }), origin, time, 0);
    expect(text.endsWith(': \\u00e9 \\ud83d\\udd25 ok')).toBe(true);
    expect(text).toMatch(/^[\x20-\x7e]+$/);
  });

  it('is one line', () => {
    const text = formatBsd(makeNotification({ message: 'a\r\nb\nc' }), origin, time, 0);
    expect(text.endsWith(': a b c')).toBe(true);
  });

  it(`is cut to ${BSD_MAX_BYTES} bytes, keeping header and identifiers`, () => {
    const text = formatBsd(makeNotification({ message: 'x'.repeat(5000) }), origin, time, 0);
    expect(Buffer.byteLength(text)).toBe(BSD_MAX_BYTES);
    expect(text.startsWith(`${header}open critical Node default/n1 ${ids}`)).toBe(true);
  });

  it('never cuts an escape in two', () => {
    const text = formatBsd(makeNotification({ message: 'é'.repeat(500) }), origin, time, 0);
    expect(Buffer.byteLength(text)).toBeLessThanOrEqual(BSD_MAX_BYTES);
    expect(Buffer.byteLength(text)).toBeGreaterThan(BSD_MAX_BYTES - 6);
    expect(text).toMatch(/(\\u00e9)+$/);
  });
});

describe('formatMessage', () => {
  it('picks the format of the export', () => {
    const notification = makeNotification();
    expect(formatMessage('rfc5424', notification, origin, time)).toBe(
      formatRfc5424(notification, origin, time),
    );
    expect(formatMessage('bsd', notification, origin, time)).toBe(
      formatBsd(notification, origin, time),
    );
  });
});

describe('bsdTimestamp', () => {
  it.each([
    ['2026-01-05T00:00:09Z', 0, 'Jan  5 00:00:09'],
    ['2026-11-25T13:45:00Z', 0, 'Nov 25 13:45:00'],
    ['2026-12-31T23:30:00Z', 60, 'Jan  1 00:30:00'],
    ['2026-03-01T00:15:00Z', -30, 'Feb 28 23:45:00'],
  ])('%s at %i minutes is %s', (iso, offset, expected) => {
    expect(bsdTimestamp(new Date(iso), offset)).toBe(expected);
  });
});

describe('escapeParamValue', () => {
  it('escapes exactly ", \\ and ]', () => {
    expect(escapeParamValue('say "hi" \\o/ [ok] = fine')).toBe('say \\"hi\\" \\\\o/ [ok\\] = fine');
  });
});

describe('oneLine', () => {
  it('makes CR LF one space and every other break or control character a space', () => {
    expect(oneLine('a\r\nb\n\nc\u0000d\u007fe\u2029f')).toBe('a b  c d e f');
  });

  it('keeps printable Unicode', () => {
    expect(oneLine('Grüße 🔥 \u00a0')).toBe('Grüße 🔥 \u00a0');
  });
});

describe('asciiSafe', () => {
  it('escapes as JSON does and stops before the limit', () => {
    expect(asciiSafe('aé', 10)).toBe('a\\u00e9');
    expect(asciiSafe('aé', 6)).toBe('a');
    expect(asciiSafe('abc', 2)).toBe('ab');
  });
});
