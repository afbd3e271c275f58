import { isoTime, type Clock } from '../clock.js';
import { ConflictError } from '../errors.js';
import { ALERT_KIND, decodeAlert, formatKey, type AlertState } from '../model/index.js';
import type { Store } from '../store/index.js';
import { NotFoundError, StateError } from './errors.js';
import { CAS_ATTEMPTS, decodeFromStore, decodeStored } from './objects.js';

/** What a user can do to an alert, and the state and audit record each one sets. */
export const ALERT_ACTIONS = {
  ack: { state: 'acknowledged', record: 'acknowledged' },
  resolve: { state: 'resolved', record: 'resolved' },
} as const satisfies Record<string, { state: AlertState; record: 'acknowledged' | 'resolved' }>;

export type AlertAction = keyof typeof ALERT_ACTIONS;

export interface AlertChange {
  readonly action: AlertAction;
  readonly tenant: string;
  readonly name: string;
  readonly user: string;
}

/** `changed`: the alert was written; `already`: it was in the asked state, nothing written. */
export type AlertChangeOutcome = 'changed' | 'already';

/**
 * Acknowledges or resolves an alert for a user. The write is a compare-and-swap on the
 * alert's revision: the daemon may reopen or resolve it at the same moment, and the user's
 * change must neither overwrite that nor be lost, so a conflict reads the alert again and
 * decides again. Only the state, the audit record and `meta.modTime` change; everything
 * else in the stored alert is written back as it was.
 */
export async function changeAlert(
  store: Store,
  prefix: string,
  change: AlertChange,
  clock: Clock,
): Promise<AlertChangeOutcome> {
  const ref = { kind: ALERT_KIND, tenant: change.tenant, name: change.name };
  const key = formatKey(prefix, ref);
  const { state, record } = ALERT_ACTIONS[change.action];

  for (let attempt = 1; attempt <= CAS_ATTEMPTS; attempt++) {
    const current = await store.get(key);
    if (current === undefined) throw new NotFoundError(ALERT_KIND, change.tenant, change.name);
    const { object } = decodeStored(prefix, current);
    const alert = decodeFromStore(key, () => decodeAlert(ref, object));

    if (alert.spec.state === state) return 'already';
    if (change.action === 'ack' && alert.spec.state === 'resolved') {
      throw new StateError(
        `alert ${JSON.stringify(change.name)} is resolved; only an open alert can be acknowledged`,
      );
    }

    const time = isoTime(clock.now());
    const next = {
      ...object,
      meta: { ...object.meta, modTime: time },
      spec: { ...(object.spec as object), state },
      status: { ...(object.status as object), [record]: { user: change.user, time } },
    };
    const guard = { modRevision: current.modRevision };
    const value = JSON.stringify(next);
    const { succeeded } = await store.txn([{ key, guard }], [{ type: 'put', key, value }]);
    if (succeeded) return 'changed';
  }
  throw new ConflictError(key, `${key} kept changing; gave up after ${CAS_ATTEMPTS} attempts`);
}
