import { stringify } from 'yaml';

import {
  ALERT_KIND,
  DESTINATION_KIND,
  isJsonObject,
  policyNameOf,
  POLICY_KIND,
  type StoredObject,
} from '../model/index.js';
import { oneLine } from './io.js';

export const OUTPUT_FORMATS = ['table', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** Renders one object, or a list as `{items: [...]}`, with secrets redacted. */
export function renderDocument(
  value: StoredObject | readonly StoredObject[],
  format: 'json' | 'yaml',
): string {
  const document = isList(value) ? { items: value.map(redact) } : redact(value);
  if (format === 'json') return `${JSON.stringify(document, null, 2)}\n`;
  // No line folding: a long message stays one line, as it is in etcd.
  return stringify(document, { lineWidth: 0 });
}

function isList(value: StoredObject | readonly StoredObject[]): value is readonly StoredObject[] {
  return Array.isArray(value);
}

export const REDACTED = '[redacted]';

/**
 * A copy without secrets: webhook header values, and passwords in export URLs
 * (`https://user:secret@host`). Applied to every object whatever its kind, so nothing that
 * merely looks like a destination leaks either.
 */
export function redact(object: StoredObject): StoredObject {
  const spec = object.spec;
  if (!isJsonObject(spec)) return object;

  const copy = structuredClone(object) as StoredObject & { spec: Record<string, unknown> };
  const webhook = copy.spec.webhookExport;
  if (isJsonObject(webhook) && isJsonObject(webhook.headers)) {
    for (const name of Object.keys(webhook.headers)) webhook.headers[name] = REDACTED;
  }
  for (const name of ['webhookExport', 'alertmanagerExport']) {
    const block = copy.spec[name];
    if (isJsonObject(block) && typeof block.url === 'string') block.url = redactUrl(block.url);
  }
  return copy;
}

function redactUrl(text: string): string {
  try {
    const url = new URL(text);
    if (url.password === '') return text;
    url.password = REDACTED;
    return url.toString();
  } catch {
    return text;
  }
}

interface Column {
  readonly header: string;
  readonly value: (object: StoredObject, now: number) => unknown;
}

const NAME: Column = { header: 'NAME', value: (o) => o.meta.name };
const TENANT: Column = { header: 'TENANT', value: (o) => o.meta.tenant };
const AGE: Column = { header: 'AGE', value: (o, now) => age(o.meta.creationTime, now) };

const COLUMNS: Readonly<Record<string, readonly Column[]>> = {
  [ALERT_KIND]: [
    NAME,
    { header: 'STATE', value: (o) => field(o, 'spec', 'state') },
    { header: 'SEVERITY', value: (o) => field(o, 'status', 'severity') },
    { header: 'POLICY', value: alertPolicy },
    { header: 'OBJECT', value: alertObject },
    AGE,
  ],
  [POLICY_KIND]: [
    NAME,
    { header: 'RESOURCE', value: (o) => field(o, 'spec', 'resource') },
    { header: 'SEVERITY', value: (o) => field(o, 'spec', 'severity') ?? 'info' },
    { header: 'OPEN', value: (o) => field(o, 'status', 'openAlerts') },
    { header: 'ACKED', value: (o) => field(o, 'status', 'acknowledgedAlerts') },
    { header: 'HITS', value: (o) => field(o, 'status', 'totalHits') },
    { header: 'ERROR', value: (o) => field(o, 'status', 'error') },
  ],
  [DESTINATION_KIND]: [
    NAME,
    { header: 'EXPORTS', value: destinationExports },
    { header: 'SENT', value: (o) => field(o, 'status', 'totalNotificationsSent') },
    { header: 'LAST-ERROR', value: (o) => field(o, 'status', 'lastError') },
  ],
};

const MANAGED_COLUMNS: readonly Column[] = [NAME, TENANT, AGE];

/**
 * A kubectl-style table: one row per object, columns padded with spaces. Listing all
 * tenants adds a TENANT column to the alert kinds (managed kinds always show it).
 */
export function renderTable(
  kind: string,
  objects: readonly StoredObject[],
  allTenants: boolean,
  now: number,
): string {
  const own = COLUMNS[kind];
  const columns = own ? (allTenants ? [TENANT, ...own] : own) : MANAGED_COLUMNS;

  const rows = [
    columns.map((column) => column.header),
    ...objects.map((object) => columns.map((column) => cell(column.value(object, now)))),
  ];
  const widths = columns.map((_, index) => Math.max(...rows.map((row) => row[index]!.length)));
  const lines = rows.map((row) =>
    row
      .map((text, index) => (index === row.length - 1 ? text : text.padEnd(widths[index]! + 3)))
      .join('')
      .trimEnd(),
  );
  return `${lines.join('\n')}\n`;
}

/** A table cell: one line, `-` when there is nothing to show. */
function cell(value: unknown): string {
  if (typeof value === 'string') return value === '' ? '-' : oneLine(value);
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return '-';
}

/** `object[block][name]`, or undefined when either level is missing. */
function field(object: StoredObject, block: 'spec' | 'status', name: string): unknown {
  const value = object[block];
  return isJsonObject(value) ? value[name] : undefined;
}

function alertPolicy(object: StoredObject): unknown {
  const reason = field(object, 'status', 'reason');
  const id = isJsonObject(reason) ? reason.policyId : undefined;
  return typeof id === 'string' ? policyNameOf(id) : undefined;
}

function alertObject(object: StoredObject): unknown {
  const ref = field(object, 'status', 'objectRef');
  if (!isJsonObject(ref) || typeof ref.kind !== 'string' || typeof ref.name !== 'string') {
    return undefined;
  }
  return `${ref.kind}/${ref.name}`;
}

/** `syslog,webhook`: the export blocks a destination carries, without the `Export` suffix. */
function destinationExports(object: StoredObject): unknown {
  const spec = object.spec;
  if (!isJsonObject(spec)) return undefined;
  return Object.keys(spec)
    .filter((name) => name.endsWith('Export') && isJsonObject(spec[name]))
    .map((name) => name.slice(0, -'Export'.length))
    .join(',');
}

/** Age as kubectl shows it: the largest unit that still reads as a small number. */
export function age(creationTime: string | undefined, now: number): string | undefined {
  const created = creationTime === undefined ? Number.NaN : Date.parse(creationTime);
  if (Number.isNaN(created)) return undefined;

  const seconds = Math.max(0, Math.floor((now - created) / 1000));
  if (seconds < 120) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 120) return `${minutes}m`;
  const hours = Math.floor(minutes / 60);
  if (hours < 48) return `${hours}h`;
  return `${Math.floor(hours / 24)}d`;
}
