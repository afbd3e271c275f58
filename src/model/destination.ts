import { ValidationError } from '../errors.js';
import { parseDuration } from './duration.js';
import { stableHash } from './hash.js';
import {
  expectArray,
  expectObject,
  expectString,
  fieldPath,
  isAbsent,
  optionalBoolean,
  optionalObject,
  optionalString,
  optionalStringMap,
  quote,
  type JsonObject,
} from './json.js';
import { DESTINATION_KIND, type ObjectRef } from './keys.js';
import type { StoredObject } from './object.js';

/** Syslog facility names and their codes (RFC 5424, section 6.2.1). */
export const SYSLOG_FACILITIES = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const;

export type SyslogFacility = keyof typeof SYSLOG_FACILITIES;
export type SyslogFormat = 'rfc5424' | 'bsd';

/** `spec` of an AlertDestination as users write it; at least one export is required. */
export interface AlertDestinationSpec {
  syslogExport?: {
    /** Default rfc5424. */
    format?: SyslogFormat;
    /** `transport` is `tcp/<port>` or `udp/<port>`, any case. */
    targets: Array<{ destination: string; transport: string }>;
    /** Defaults: facilityOverride user, prefix alertmgr. */
    config?: { facilityOverride?: SyslogFacility; prefix?: string };
  };
  webhookExport?: {
    url: string;
    /** Default 5s. */
    timeout?: string;
    headers?: Record<string, string>;
    /** Default true. */
    sendResolved?: boolean;
  };
  alertmanagerExport?: { url: string };
  fileExport?: { path: string };
}

/** `status` of an AlertDestination, written by alertmgr only. */
export interface AlertDestinationStatus {
  totalNotificationsSent: number;
  lastError: string;
}

export interface SyslogTarget {
  protocol: 'tcp' | 'udp';
  host: string;
  port: number;
}

export interface CompiledSyslogExport {
  format: SyslogFormat;
  targets: SyslogTarget[];
  facility: SyslogFacility;
  facilityCode: number;
  /** APP-NAME in RFC 5424, TAG in BSD syslog. */
  prefix: string;
}

export interface CompiledWebhookExport {
  url: string;
  timeoutMs: number;
  /** May hold credentials: never log these. */
  headers: Record<string, string>;
  sendResolved: boolean;
}

export interface CompiledAlertmanagerExport {
  url: string;
}

export interface CompiledFileExport {
  path: string;
}

/** A destination after validation, with every default applied. */
export interface CompiledDestination {
  ref: ObjectRef;
  syslogExport?: CompiledSyslogExport;
  webhookExport?: CompiledWebhookExport;
  alertmanagerExport?: CompiledAlertmanagerExport;
  fileExport?: CompiledFileExport;
  /**
   * Export blocks of kinds alertmgr does not know itself (`spec.<name>Export`), as written:
   * a destination kind added by a plug-in validates its own block.
   */
  custom?: Record<string, JsonObject>;
  /** Hash of the compiled spec: equal hashes mean the destination behaves the same. */
  specHash: string;
}

export const DEFAULT_WEBHOOK_TIMEOUT_MS = 5_000;
export const DEFAULT_SYSLOG_PREFIX = 'alertmgr';
export const DEFAULT_SYSLOG_FACILITY: SyslogFacility = 'user';

/** Validates an AlertDestination and compiles it; throws a ValidationError naming the field. */
export function compileDestination(ref: ObjectRef, object: StoredObject): CompiledDestination {
  if (ref.kind !== DESTINATION_KIND) {
    throw new ValidationError(
      'kind',
      `expected ${quote(DESTINATION_KIND)}, got ${quote(ref.kind)}`,
    );
  }
  const spec = expectObject(object.spec, 'spec');

  const exports = {
    syslogExport: compileOptional(spec.syslogExport, 'spec.syslogExport', compileSyslog),
    webhookExport: compileOptional(spec.webhookExport, 'spec.webhookExport', compileWebhook),
    alertmanagerExport: compileOptional(
      spec.alertmanagerExport,
      'spec.alertmanagerExport',
      (value, field) => ({ url: readHttpUrl(value.url, `${field}.url`) }),
    ),
    fileExport: compileOptional(spec.fileExport, 'spec.fileExport', compileFile),
  };
  const custom = customExports(spec);
  if (Object.values(exports).every((entry) => entry === undefined) && custom === undefined) {
    throw new ValidationError(
      'spec',
      'needs at least one of syslogExport, webhookExport, alertmanagerExport, fileExport',
    );
  }

  // Absent exports are left out rather than set to undefined, so the result reads as JSON.
  const result: CompiledDestination = { ref, specHash: stableHash({ ...exports, custom }) };
  if (custom) result.custom = custom;
  if (exports.syslogExport) result.syslogExport = exports.syslogExport;
  if (exports.webhookExport) result.webhookExport = exports.webhookExport;
  if (exports.alertmanagerExport) result.alertmanagerExport = exports.alertmanagerExport;
  if (exports.fileExport) result.fileExport = exports.fileExport;
  return result;
}

const BUILTIN_EXPORTS = new Set([
  'syslogExport',
  'webhookExport',
  'alertmanagerExport',
  'fileExport',
]);

/** The `<name>Export` blocks of kinds added by plug-ins; undefined when there are none. */
function customExports(spec: JsonObject): Record<string, JsonObject> | undefined {
  let found: Record<string, JsonObject> | undefined;
  for (const [key, value] of Object.entries(spec)) {
    if (!/^[a-z][A-Za-z0-9]*Export$/.test(key) || BUILTIN_EXPORTS.has(key)) continue;
    found ??= {};
    found[key] = expectObject(value, `spec.${key}`);
  }
  return found;
}

function compileOptional<T>(
  value: unknown,
  field: string,
  compile: (value: JsonObject, field: string) => T,
): T | undefined {
  const object = optionalObject(value, field);
  return object === undefined ? undefined : compile(object, field);
}

function compileSyslog(spec: JsonObject, field: string): CompiledSyslogExport {
  const format = readFormat(spec.format, `${field}.format`);
  const targets = expectArray(spec.targets, `${field}.targets`);
  if (targets.length === 0) {
    throw new ValidationError(`${field}.targets`, 'must hold at least one target');
  }

  const config = optionalObject(spec.config, `${field}.config`) ?? {};
  const facility = readFacility(config.facilityOverride, `${field}.config.facilityOverride`);
  return {
    format,
    targets: targets.map((target, index) => readTarget(target, `${field}.targets[${index}]`)),
    facility,
    facilityCode: SYSLOG_FACILITIES[facility],
    prefix: readPrefix(config.prefix, `${field}.config.prefix`, format),
  };
}

function readFormat(value: unknown, field: string): SyslogFormat {
  const format = optionalString(value, field) ?? 'rfc5424';
  if (format !== 'rfc5424' && format !== 'bsd') {
    throw new ValidationError(field, `unknown format ${quote(format)}; expected rfc5424 or bsd`);
  }
  return format;
}

const TRANSPORT = /^(tcp|udp)\/(\d{1,5})$/i;

function readTarget(value: unknown, field: string): SyslogTarget {
  const target = expectObject(value, field);

  let host = expectString(target.destination, `${field}.destination`);
  if (/[\s/]/.test(host)) {
    throw new ValidationError(
      `${field}.destination`,
      `${quote(host)} is not a host name or address`,
    );
  }
  // An IPv6 address may be written in brackets, as in URLs; sockets want it bare.
  if (host.startsWith('[') && host.endsWith(']')) host = host.slice(1, -1);

  const transport = expectString(target.transport, `${field}.transport`);
  const parts = TRANSPORT.exec(transport);
  const port = Number(parts?.[2]);
  if (!parts || port < 1 || port > 65535) {
    throw new ValidationError(
      `${field}.transport`,
      `invalid transport ${quote(transport)}; expected tcp/<port> or udp/<port>, port 1 to 65535`,
    );
  }
  return { protocol: parts[1]?.toLowerCase() === 'tcp' ? 'tcp' : 'udp', host, port };
}

/** Facility names are matched in any case, as syslog tools do; `LOCAL0` reads as local0. */
function readFacility(value: unknown, field: string): SyslogFacility {
  const name = (optionalString(value, field) ?? DEFAULT_SYSLOG_FACILITY).toLowerCase();
  if (!Object.hasOwn(SYSLOG_FACILITIES, name)) {
    const known = Object.keys(SYSLOG_FACILITIES).join(', ');
    throw new ValidationError(field, `unknown facility ${quote(name)}; expected one of ${known}`);
  }
  return name as SyslogFacility;
}

/**
 * The prefix is sent as RFC 5424 APP-NAME, which allows 1 to 48 printable ASCII characters
 * without spaces; the BSD TAG allows only 32.
 */
function readPrefix(value: unknown, field: string, format: SyslogFormat): string {
  const prefix = optionalString(value, field) ?? DEFAULT_SYSLOG_PREFIX;
  const limit = format === 'bsd' ? 32 : 48;
  if (prefix.length > limit || !/^[\x21-\x7e]+$/.test(prefix)) {
    throw new ValidationError(
      field,
      `${quote(prefix)} must be 1 to ${limit} printable ASCII characters without spaces`,
    );
  }
  return prefix;
}

// An HTTP header name is an RFC 9110 token; a value must not be able to start a new header.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const HEADER_VALUE_FORBIDDEN = /[\r\n\0]/;

function compileWebhook(spec: JsonObject, field: string): CompiledWebhookExport {
  const timeoutMs = isAbsent(spec.timeout)
    ? DEFAULT_WEBHOOK_TIMEOUT_MS
    : parseDuration(spec.timeout, `${field}.timeout`);
  if (timeoutMs <= 0) throw new ValidationError(`${field}.timeout`, 'must be longer than 0s');

  const headers = optionalStringMap(spec.headers, `${field}.headers`) ?? {};
  for (const [name, text] of Object.entries(headers)) {
    const at = fieldPath(`${field}.headers`, name);
    if (!HEADER_NAME.test(name)) throw new ValidationError(at, 'is not a valid HTTP header name');
    // The value is left out of the message: headers often carry credentials.
    if (HEADER_VALUE_FORBIDDEN.test(text)) {
      throw new ValidationError(at, 'value must not contain line breaks or NUL');
    }
  }

  return {
    url: readHttpUrl(spec.url, `${field}.url`),
    timeoutMs,
    headers,
    sendResolved: optionalBoolean(spec.sendResolved, `${field}.sendResolved`) ?? true,
  };
}

function compileFile(spec: JsonObject, field: string): CompiledFileExport {
  const path = expectString(spec.path, `${field}.path`);
  if (path.includes('\0')) throw new ValidationError(`${field}.path`, 'must not contain NUL');
  return { path };
}

/**
 * An absolute http or https URL, kept as written. Messages leave the URL out because it may
 * carry a password (`https://user:secret@host/`).
 */
function readHttpUrl(value: unknown, field: string): string {
  const text = expectString(value, field);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError(field, 'is not a valid absolute URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError(field, `must be an http or https URL, got ${quote(url.protocol)}`);
  }
  return text;
}
