import type { Severity, SyslogFormat } from '../../model/index.js';
import type { Notification } from '../types.js';

/**
 * RFC 5424 wants structured data IDs of our own to end in `@<private enterprise number>`.
 * alertmgr has no number registered; 32473 is the one IANA reserves for documentation and
 * examples (RFC 5612), so the IDs are well formed without claiming anybody else's number.
 */
export const ENTERPRISE_NUMBER = 32473;

/** RFC 5424 severity codes: 2 crit, 4 warning, 6 informational. */
export const SEVERITY_CODES: Readonly<Record<Severity, number>> = {
  critical: 2,
  warn: 4,
  info: 6,
};

/** RFC 3164 caps a BSD syslog packet at 1,024 bytes; longer ones get cut by relays. */
export const BSD_MAX_BYTES = 1024;

/** The sender's side of the header: the same for every message of one export. */
export interface SyslogOrigin {
  readonly facilityCode: number;
  /** APP-NAME in RFC 5424, TAG in BSD syslog: the export's `prefix`. */
  readonly appName: string;
  readonly hostname: string;
  readonly procId: string;
}

const NIL = '-';
const BOM = '\uFEFF';
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

export function priority(facilityCode: number, severity: Severity): number {
  return facilityCode * 8 + SEVERITY_CODES[severity];
}

/** One message in the export's format, without transport framing. `time` must be valid. */
export function formatMessage(
  format: SyslogFormat,
  notification: Notification,
  origin: SyslogOrigin,
  time: Date,
): string {
  return format === 'bsd'
    ? formatBsd(notification, origin, time)
    : formatRfc5424(notification, origin, time);
}

/**
 * `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID [alert@…][object@…] MSG` (RFC 5424).
 * MSGID is the alert's new state; the structured data carries what a receiver needs to
 * route and de-duplicate, so MSG stays a short line for people.
 */
export function formatRfc5424(
  notification: Notification,
  origin: SyslogOrigin,
  time: Date,
): string {
  const header = [
    `<${priority(origin.facilityCode, notification.alert.status.severity)}>1`,
    Number.isNaN(time.getTime()) ? NIL : time.toISOString(),
    headerField(origin.hostname, 255),
    headerField(origin.appName, 48),
    headerField(origin.procId, 128),
    headerField(notification.state, 32),
    structuredData(notification),
  ].join(' ');

  const text = oneLine(summary(notification));
  // The BOM tells a receiver that MSG is UTF-8. Receivers that do not know it show it as
  // stray bytes, so plain ASCII text, which needs no label, goes without.
  return `${header} ${isAscii(text) ? text : BOM + text}`;
}

/**
 * `<PRI>Mmm dd hh:mm:ss HOSTNAME TAG[PROCID]: CONTENT` (RFC 3164). BSD syslog has no
 * structured data, so CONTENT leads with the identifiers and ends with the policy's message,
 * which is what the length cap cuts first. The timestamp has no zone; RFC 3164 says local
 * time, hence the offset (minutes east of UTC) that defaults to the host's.
 */
export function formatBsd(
  notification: Notification,
  origin: SyslogOrigin,
  time: Date,
  utcOffsetMinutes = -time.getTimezoneOffset(),
): string {
  const pri = priority(origin.facilityCode, notification.alert.status.severity);
  const tag = `${headerField(origin.appName, 32)}[${headerField(origin.procId, 16)}]`;
  const stamp = bsdTimestamp(time, utcOffsetMinutes);
  const header = `<${pri}>${stamp} ${headerField(origin.hostname, 255)} ${tag}: `;

  return header + asciiSafe(oneLine(bsdContent(notification)), BSD_MAX_BYTES - header.length);
}

/** `Mmm dd hh:mm:ss`, the day padded with a space as RFC 3164 asks (`Jan  5`). */
export function bsdTimestamp(time: Date, utcOffsetMinutes: number): string {
  const local = new Date(time.getTime() + utcOffsetMinutes * 60_000);
  const day = String(local.getUTCDate()).padStart(2, ' ');
  const clock = [local.getUTCHours(), local.getUTCMinutes(), local.getUTCSeconds()]
    .map((part) => String(part).padStart(2, '0'))
    .join(':');
  return `${MONTHS[local.getUTCMonth()]} ${day} ${clock}`;
}

/** An SD-PARAM value: `"`, `\` and `]` are the three characters RFC 5424 has escaped. */
export function escapeParamValue(value: string): string {
  return oneLine(value).replace(/["\\\]]/g, (char) => `\\${char}`);
}

// CR LF is one line break and becomes one space, not two.
const CRLF = /\r\n/g;
// What is not printable: C0 controls (line feed, carriage return, tab...), DEL, C1 controls
// (NEL among them) and the Unicode line and paragraph separators U+2028 and U+2029.
const UNPRINTABLE = /[^ -~\u00a0-\u2027\u202a-\uffff]/g;

/**
 * The text as one line. Receivers and the plain-text files they write split on line breaks,
 * so a multi-line policy message would turn into several bogus messages.
 */
export function oneLine(text: string): string {
  return text.replace(CRLF, ' ').replace(UNPRINTABLE, ' ');
}

/**
 * Printable ASCII, at most `maxLength` characters. Other characters are written as JSON
 * writes them (`\u00e9`, astral ones as two escapes) so a reader can still tell what they
 * were; a backslash in the text itself is left as it is, so the escape is for people, not
 * reversible in every case. The cut never splits an escape.
 */
export function asciiSafe(text: string, maxLength: number): string {
  let out = '';
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    const piece = code <= 0x7e ? text[index]! : `\\u${code.toString(16).padStart(4, '0')}`;
    if (out.length + piece.length > maxLength) break;
    out += piece;
  }
  return out;
}

function isAscii(text: string): boolean {
  return /^[\x20-\x7e]*$/.test(text);
}

/**
 * A header field is 1 to `max` printable ASCII characters without spaces. Prefix and state
 * already are; the host name comes from the system and is made to fit rather than trusted.
 */
function headerField(text: string, max: number): string {
  return text.replace(/[^!-~]/g, '_').slice(0, max) || NIL;
}

function structuredData(notification: Notification): string {
  const { meta, status } = notification.alert;
  const object = status.objectRef;
  const alert = sdElement('alert', [
    ['notificationId', notification.id],
    ['event', notification.event],
    ['name', meta.name],
    ['tenant', meta.tenant],
    ['policyId', status.reason.policyId],
    ['severity', status.severity],
    ['totalHits', String(status.totalHits)],
  ]);
  const about = sdElement('object', [
    ['kind', object.kind],
    ['tenant', object.tenant],
    ['name', object.name],
  ]);
  return alert + about;
}

function sdElement(name: string, params: ReadonlyArray<readonly [string, string]>): string {
  const body = params.map(([key, value]) => ` ${key}="${escapeParamValue(value)}"`).join('');
  return `[${name}@${ENTERPRISE_NUMBER}${body}]`;
}

/** What happened to what: `open critical Node default/n1`, then the policy's message. */
function summary(notification: Notification): string {
  const { status } = notification.alert;
  const object = status.objectRef;
  const head = [
    notification.state,
    status.severity,
    object.kind,
    `${object.tenant}/${object.name}`,
  ];
  return withMessage(head.join(' '), status.message);
}

function bsdContent(notification: Notification): string {
  const { meta, status } = notification.alert;
  const object = status.objectRef;
  const head = [
    notification.state,
    status.severity,
    object.kind,
    `${object.tenant}/${object.name}`,
    `alert=${meta.name}`,
    `policy=${status.reason.policyId}`,
    `hits=${status.totalHits}`,
    `id=${notification.id}`,
  ].join(' ');
  return withMessage(head, status.message);
}

function withMessage(head: string, message: string): string {
  return message === '' ? head : `${head}: ${message}`;
}
