import { hostname } from 'node:os';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { systemClock } from '../../../src/clock.js';
import { createSyslogSink } from '../../../src/exporter/syslog/index.js';
import type { Sink } from '../../../src/exporter/types.js';
import { silentLogger } from '../../../src/log.js';
import { waitFor } from '../../helpers/poll.js';
import { compileSyslog, makeNotification } from './fixtures.js';
import { Rsyslog, type ParsedMessage } from './rsyslog.js';

const BOM = '\uFEFF';
const PID = String(process.pid);
// Awkward on purpose: SD-PARAM escapes, a line break and non-ASCII text.
const OBJECT = { kind: 'Node', tenant: 'default', name: 'rack "7" \\ [a]' };
const MESSAGE = 'disk full\non /var — Grüße';

let rsyslog: Rsyslog;
const sinks: Sink[] = [];

beforeAll(async () => {
  rsyslog = await Rsyslog.start();
});

afterAll(async () => {
  await Promise.all(sinks.map((sink) => sink.close()));
  await rsyslog?.stop();
});

/** A sink as the daemon builds it: default host name and process id. */
function openSink(format: 'rfc5424' | 'bsd', transport: 'udp' | 'tcp'): Sink {
  const port = transport === 'udp' ? rsyslog.udpPort : rsyslog.tcpPort;
  const config = compileSyslog({
    format,
    targets: [{ destination: '127.0.0.1', transport: `${transport.toUpperCase()}/${port}` }],
    config: { facilityOverride: 'local3', prefix: 'amtest' },
  });
  const sink = createSyslogSink(config, { log: silentLogger(), clock: systemClock });
  sinks.push(sink);
  return sink;
}

/** What rsyslog reports as the reported time of a BSD message: local, year guessed. */
function localMonthDayTime(iso: string): string {
  const date = new Date(iso);
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(date.getMonth() + 1)}-${two(date.getDate())}T${two(date.getHours())}:${two(
    date.getMinutes(),
  )}:${two(date.getSeconds())}`;
}

describe.each(['udp', 'tcp'] as const)('rsyslog over %s', (transport) => {
  it('parses RFC 5424 header, structured data and message', async () => {
    const sink = openSink('rfc5424', transport);
    const name = `rfc5424-${transport}-0123456789`;
    const notification = makeNotification({ name, object: OBJECT, message: MESSAGE });

    await sink.send(notification);

    const parsed = await rsyslog.find(
      (m) => m.sd?.['alert@32473']?.name === name,
      `the RFC 5424 message over ${transport}`,
    );
    expect(parsed).toMatchObject({
      input: `im${transport}`,
      version: '1',
      pri: String(19 * 8 + 2),
      time: '2026-03-04T05:06:07.890Z',
      hostname: hostname(),
      appName: 'amtest',
      procid: PID,
      msgid: 'open',
      msg: `${BOM}open critical Node default/rack "7" \\ [a]: disk full on /var — Grüße`,
    });
    expect(parsed.sd).toEqual({
      'alert@32473': {
        notificationId: `${name}:3:open`,
        event: 'open',
        name,
        tenant: 'default',
        policyId: 'node-down/42',
        severity: 'critical',
        totalHits: '3',
      },
      'object@32473': OBJECT,
    });
  });

  it('parses BSD header and content', async () => {
    const sink = openSink('bsd', transport);
    const name = `bsd-${transport}-0123456789`;
    const notification = makeNotification({
      name,
      state: 'acknowledged',
      severity: 'warn',
      object: OBJECT,
      message: MESSAGE,
    });

    await sink.send(notification);

    const parsed = await rsyslog.find(
      (m) => m.msg.includes(`alert=${name} `),
      `the BSD message over ${transport}`,
    );
    expect(parsed).toMatchObject({
      input: `im${transport}`,
      version: '0',
      pri: String(19 * 8 + 4),
      hostname: hostname(),
      appName: 'amtest',
      procid: PID,
      tag: `amtest[${PID}]:`,
    });
    expect(parsed.time.slice(5, 19)).toBe(localMonthDayTime(notification.time));
    // rsyslog keeps the space after the tag's colon as part of MSG.
    expect(parsed.msg.trimStart()).toBe(
      `acknowledged warn Node default/rack "7" \\ [a] alert=${name} policy=node-down/42` +
        ` hits=3 id=${name}:3:acknowledged: disk full on /var \\u2014 Gr\\u00fc\\u00dfe`,
    );
  });

  it('takes one BSD message of at most 1,024 bytes however long the text', async () => {
    const sink = openSink('bsd', transport);
    const name = `long-${transport}-0123456789`;

    await sink.send(makeNotification({ name, message: 'é'.repeat(3_000) }));

    const parsed = await rsyslog.find(
      (m) => m.msg.includes(`alert=${name} `),
      `the long BSD message over ${transport}`,
    );
    expect(Buffer.byteLength(parsed.raw)).toBeLessThanOrEqual(1024);
    expect(parsed.raw).toMatch(/^[\x20-\x7e]+$/);
    expect(parsed.msg).toMatch(/(\\u00e9)+$/);
  });
});

describe('rsyslog over tcp', () => {
  it('splits back-to-back messages on the octet counts', async () => {
    const sink = openSink('rfc5424', 'tcp');
    const name = 'burst-0123456789';
    const states = ['open', 'acknowledged', 'resolved', 'deleted'] as const;

    for (const state of states) await sink.send(makeNotification({ name, state, message: 'a\nb' }));

    const all = await waitForAll(name, states.length);
    expect(all.map((m) => m.msgid)).toEqual([...states]);
    expect(all.map((m) => m.msg)).toEqual(states.map((s) => `${s} critical Node default/n1: a b`));
  });
});

/** Waits until rsyslog has written `count` RFC 5424 messages about the alert `name`. */
function waitForAll(name: string, count: number): Promise<ParsedMessage[]> {
  return waitFor(
    async () => {
      const found = (await rsyslog.messages()).filter((m) => m.sd?.['alert@32473']?.name === name);
      return found.length >= count && found;
    },
    { timeoutMs: 10_000, what: `${count} messages about ${name}` },
  );
}
