import {
  compileDestination,
  decodeObject,
  type Alert,
  type CompiledSyslogExport,
} from '../../../src/model/index.js';
import { notificationId, type Notification } from '../../../src/exporter/types.js';

export interface NotificationFields {
  name?: string;
  state?: Notification['state'];
  event?: Notification['event'];
  severity?: Alert['status']['severity'];
  message?: string;
  object?: { kind: string; tenant: string; name: string };
  totalHits?: number;
  time?: string;
}

/** A notification about one alert, every field fixed unless the test overrides it. */
export function makeNotification(fields: NotificationFields = {}): Notification {
  const name = fields.name ?? 'node-down-n1-0123456789';
  const state = fields.state ?? 'open';
  const totalHits = fields.totalHits ?? 3;
  const alert: Alert = {
    kind: 'Alert',
    meta: { name, tenant: 'default' },
    spec: { state: state === 'deleted' ? 'resolved' : state },
    status: {
      severity: fields.severity ?? 'critical',
      message: fields.message ?? 'node is down',
      objectRef: fields.object ?? { kind: 'Node', tenant: 'default', name: 'n1' },
      reason: { policyId: 'node-down/42', matchedRequirements: [] },
      totalHits,
    },
  };
  return {
    id: notificationId(name, totalHits, state),
    event: fields.event ?? (state === 'open' ? 'open' : state),
    state,
    alert,
    policy: { id: 'node-down/42', name: 'node-down', tenant: 'default' },
    destinations: ['main'],
    time: fields.time ?? '2026-03-04T05:06:07.890Z',
  };
}

/**
 * A syslog export compiled the way the daemon compiles it, from the spec a user writes,
 * so the tests also cover `UDP/…` spellings and the defaults.
 */
export function compileSyslog(syslogExport: unknown): CompiledSyslogExport {
  const key = '/objects/AlertDestination/default/main';
  const { ref, object } = decodeObject('/objects', key, JSON.stringify({ spec: { syslogExport } }));
  return compileDestination(ref, object).syslogExport!;
}
