import { describe, expect, it } from 'vitest';

import {
  compileDestination,
  decodeObject,
  type CompiledDestination,
} from '../../src/model/index.js';
import { validationError } from './validation.js';

function compile(spec: unknown): CompiledDestination {
  const key = '/objects/AlertDestination/t1/main';
  const { ref, object } = decodeObject('/objects', key, JSON.stringify({ spec }));
  return compileDestination(ref, object);
}

const syslog = { targets: [{ destination: '127.0.0.1', transport: 'udp/514' }] };

describe('compileDestination', () => {
  it('fills the syslog defaults', () => {
    const destination = compile({ syslogExport: syslog });
    expect(destination.ref).toEqual({ kind: 'AlertDestination', tenant: 't1', name: 'main' });
    expect(destination.syslogExport).toEqual({
      format: 'rfc5424',
      targets: [{ protocol: 'udp', host: '127.0.0.1', port: 514 }],
      facility: 'user',
      facilityCode: 1,
      prefix: 'alertmgr',
    });
    expect(Object.keys(destination).sort()).toEqual(['ref', 'specHash', 'syslogExport']);
  });

  it('takes every syslog field the spec gives', () => {
    const destination = compile({
      syslogExport: {
        format: 'bsd',
        targets: [
          { destination: 'logs.example', transport: 'TCP/6514' },
          { destination: '[::1]', transport: 'Udp/1' },
          { destination: '::1', transport: 'udp/65535' },
        ],
        config: { facilityOverride: 'LOCAL7', prefix: 'my-app' },
      },
    });
    expect(destination.syslogExport).toEqual({
      format: 'bsd',
      targets: [
        { protocol: 'tcp', host: 'logs.example', port: 6514 },
        { protocol: 'udp', host: '::1', port: 1 },
        { protocol: 'udp', host: '::1', port: 65535 },
      ],
      facility: 'local7',
      facilityCode: 23,
      prefix: 'my-app',
    });
  });

  it.each([
    ['kern', 0],
    ['auth', 4],
    ['authpriv', 10],
    ['ftp', 11],
    ['local0', 16],
  ])('maps the facility %s to code %d', (facilityOverride, code) => {
    const destination = compile({ syslogExport: { ...syslog, config: { facilityOverride } } });
    expect(destination.syslogExport?.facilityCode).toBe(code);
  });

  it('fills the webhook defaults', () => {
    const destination = compile({ webhookExport: { url: 'http://127.0.0.1:9000/hook' } });
    expect(destination.webhookExport).toEqual({
      url: 'http://127.0.0.1:9000/hook',
      timeoutMs: 5_000,
      headers: {},
      sendResolved: true,
    });
  });

  it('takes every webhook field the spec gives', () => {
    const destination = compile({
      webhookExport: {
        url: 'https://hooks.example/a?b=c',
        timeout: '1.5s',
        headers: { Authorization: 'Bearer x', 'X-Team': 'infra' },
        sendResolved: false,
      },
    });
    expect(destination.webhookExport).toEqual({
      url: 'https://hooks.example/a?b=c',
      timeoutMs: 1_500,
      headers: { Authorization: 'Bearer x', 'X-Team': 'infra' },
      sendResolved: false,
    });
  });

  it('compiles several exports side by side', () => {
    const destination = compile({
      syslogExport: syslog,
      alertmanagerExport: { url: 'http://127.0.0.1:9093' },
      fileExport: { path: '/var/lib/alertmgr/alerts.jsonl' },
    });
    expect(destination.alertmanagerExport).toEqual({ url: 'http://127.0.0.1:9093' });
    expect(destination.fileExport).toEqual({ path: '/var/lib/alertmgr/alerts.jsonl' });
    expect(destination.webhookExport).toBeUndefined();
  });

  it('hashes the compiled spec, so spelled-out defaults do not count as a change', () => {
    const plain = compile({ syslogExport: syslog }).specHash;
    const spelled = compile({
      syslogExport: { ...syslog, format: 'rfc5424', config: { facilityOverride: 'user' } },
    }).specHash;
    expect(spelled).toBe(plain);
    expect(compile({ syslogExport: { ...syslog, format: 'bsd' } }).specHash).not.toBe(plain);
  });

  const target = (fields: object) => ({
    syslogExport: { targets: [{ ...syslog.targets[0], ...fields }] },
  });

  it.each([
    ['no spec', undefined, 'spec: required'],
    [
      'no export',
      { email: {} },
      'spec: needs at least one of syslogExport, webhookExport, alertmanagerExport, fileExport',
    ],
    [
      'only null exports',
      { syslogExport: null },
      'spec: needs at least one of syslogExport, webhookExport, alertmanagerExport, fileExport',
    ],
    [
      'export not an object',
      { fileExport: 'x' },
      'spec.fileExport: expected an object, got a string',
    ],
    ['no targets', { syslogExport: {} }, 'spec.syslogExport.targets: required'],
    [
      'empty targets',
      { syslogExport: { targets: [] } },
      'spec.syslogExport.targets: must hold at least one target',
    ],
    [
      'unknown format',
      { syslogExport: { ...syslog, format: 'json' } },
      'spec.syslogExport.format: unknown format "json"; expected rfc5424 or bsd',
    ],
    [
      'empty host',
      target({ destination: '' }),
      'spec.syslogExport.targets[0].destination: must not be empty',
    ],
    [
      'host with a space',
      target({ destination: 'a b' }),
      'spec.syslogExport.targets[0].destination: "a b" is not a host name or address',
    ],
    ...['tcp:514', 'udp/0', 'udp/65536', 'sctp/514', 'udp/', 'udp/514/x', 'udp/-1'].map(
      (transport): [string, unknown, string] => [
        `transport ${transport}`,
        target({ transport }),
        `spec.syslogExport.targets[0].transport: invalid transport ${JSON.stringify(transport)}; ` +
          'expected tcp/<port> or udp/<port>, port 1 to 65535',
      ],
    ),
    [
      'no transport',
      target({ transport: undefined }),
      'spec.syslogExport.targets[0].transport: required',
    ],
    [
      'unknown facility',
      { syslogExport: { ...syslog, config: { facilityOverride: 'local8' } } },
      'spec.syslogExport.config.facilityOverride: unknown facility "local8"; expected one of ' +
        'kern, user, mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, ' +
        'local0, local1, local2, local3, local4, local5, local6, local7',
    ],
    [
      'prefix with a space',
      { syslogExport: { ...syslog, config: { prefix: 'my app' } } },
      'spec.syslogExport.config.prefix: "my app" must be 1 to 48 printable ASCII characters without spaces',
    ],
    [
      'BSD prefix over 32 characters',
      { syslogExport: { ...syslog, format: 'bsd', config: { prefix: 'a'.repeat(33) } } },
      `spec.syslogExport.config.prefix: "${'a'.repeat(33)}" must be 1 to 32 printable ASCII characters without spaces`,
    ],
    ['webhook without url', { webhookExport: {} }, 'spec.webhookExport.url: required'],
    [
      'webhook url not a URL',
      { webhookExport: { url: 'not a url' } },
      'spec.webhookExport.url: is not a valid absolute URL',
    ],
    [
      'webhook url not http',
      { webhookExport: { url: 'ftp://host/x' } },
      'spec.webhookExport.url: must be an http or https URL, got "ftp:"',
    ],
    [
      'zero timeout',
      { webhookExport: { url: 'http://h', timeout: '0s' } },
      'spec.webhookExport.timeout: must be longer than 0s',
    ],
    [
      'bad timeout',
      { webhookExport: { url: 'http://h', timeout: '5' } },
      'spec.webhookExport.timeout: invalid duration "5": ' +
        'expected a number with a unit such as 300ms, 2s, 5m or 24h',
    ],
    [
      'header value not text',
      { webhookExport: { url: 'http://h', headers: { 'X-N': 1 } } },
      'spec.webhookExport.headers.X-N: expected a string, got a number',
    ],
    [
      'bad header name',
      { webhookExport: { url: 'http://h', headers: { 'Bad Name': 'v' } } },
      'spec.webhookExport.headers["Bad Name"]: is not a valid HTTP header name',
    ],
    [
      'header value with a line break',
      { webhookExport: { url: 'http://h', headers: { Authorization: 'a\r\nX-Evil: 1' } } },
      'spec.webhookExport.headers.Authorization: value must not contain line breaks or NUL',
    ],
    [
      'sendResolved not a boolean',
      { webhookExport: { url: 'http://h', sendResolved: 'no' } },
      'spec.webhookExport.sendResolved: expected true or false, got a string',
    ],
    [
      'alertmanager url not http',
      { alertmanagerExport: { url: 'file:///etc/passwd' } },
      'spec.alertmanagerExport.url: must be an http or https URL, got "file:"',
    ],
    ['empty file path', { fileExport: { path: '' } }, 'spec.fileExport.path: must not be empty'],
  ])('rejects %s', (_case, spec, message) => {
    expect(validationError(() => compile(spec)).message).toBe(message);
  });

  it('never repeats a URL or header value in a message, as they may hold secrets', () => {
    const url = validationError(() =>
      compile({ webhookExport: { url: 'gopher://user:s3cret@host/' } }),
    );
    expect(url.message).not.toContain('s3cret');
    const header = validationError(() =>
      compile({ webhookExport: { url: 'http://h', headers: { Authorization: 's3cret\n' } } }),
    );
    expect(header.message).not.toContain('s3cret');
  });

  it('refuses an object that is not an AlertDestination', () => {
    const { ref, object } = decodeObject('/objects', '/objects/Node/t1/n1', '{}');
    expect(validationError(() => compileDestination(ref, object)).message).toBe(
      'kind: expected "AlertDestination", got "Node"',
    );
  });

  it('keeps the export blocks of plug-in kinds as written, for their own factories', () => {
    const destination = compile({ emailExport: { to: 'ops@example.com' } });
    expect(destination.custom).toEqual({ emailExport: { to: 'ops@example.com' } });
    const other = compile({ emailExport: { to: 'noc@example.com' } });
    expect(other.specHash).not.toBe(destination.specHash);
  });
});
