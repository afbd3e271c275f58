import { F, type Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import { compileDestination, decodeObject, type CompiledDestination } from '../model/index.js';
import type { KeyValue, WatchEvent } from '../store/index.js';
import type { Notification } from './types.js';

/** The per-destination children, as the stage sees them (nact actors in production). */
export interface DestinationChildren {
  spawn(name: string, compiled: CompiledDestination): void;
  stop(name: string): void;
  send(name: string, notification: Notification): void;
}

export interface ExporterStageOptions {
  readonly prefix: string;
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly children: DestinationChildren;
  /** Also called for every notification (the demo prints them). */
  readonly onNotification?: (notification: Notification) => void;
}

/**
 * Routes each alert state change to the destinations its policy names (looked up in the
 * policy's tenant), and keeps one child per AlertDestination, replaced when it changes.
 */
export class ExporterStage {
  /** `<tenant>/<name>` → the spec hash of the child running it. */
  private readonly running = new Map<string, string>();
  private readonly rejected = new Map<string, number>();
  private readonly missingLogged = new Set<string>();

  constructor(private readonly o: ExporterStageOptions) {}

  sync(items: readonly KeyValue[]): void {
    for (const kv of items) this.put(kv);
  }

  destinationEvents(events: readonly WatchEvent[]): void {
    for (const event of events) {
      if (event.type === 'put') this.put(event.kv);
      else this.remove(event.key);
    }
  }

  notify(notification: Notification): void {
    this.o.onNotification?.(notification);
    for (const destination of notification.destinations) {
      const name = `${notification.policy.tenant}/${destination}`;
      if (this.running.has(name)) {
        this.o.children.send(name, notification);
        continue;
      }
      this.o.metrics.notifications.inc({ destination: name, result: 'dropped' });
      if (!this.missingLogged.has(name)) {
        this.missingLogged.add(name);
        this.o.log.warn(
          { [F.destination]: name, [F.policy]: notification.policy.id },
          'policy names a destination that does not exist; its notifications are dropped',
        );
      }
    }
  }

  private put(kv: KeyValue): void {
    let compiled: CompiledDestination;
    try {
      const { ref, object } = decodeObject(this.o.prefix, kv.key, kv.value);
      compiled = compileDestination(ref, object);
    } catch (err) {
      if (this.rejected.get(kv.key) !== kv.modRevision) {
        this.rejected.set(kv.key, kv.modRevision);
        this.o.log.warn({ [F.destination]: kv.key, [F.err]: String(err) }, 'invalid destination');
      }
      return;
    }
    this.rejected.delete(kv.key);
    const name = `${compiled.ref.tenant}/${compiled.ref.name}`;
    const current = this.running.get(name);
    // alertmgr's own status writes come back as updates; the sending part did not change.
    if (current === compiled.specHash) return;
    if (current !== undefined) this.o.children.stop(name);
    this.o.children.spawn(name, compiled);
    this.running.set(name, compiled.specHash);
    this.missingLogged.delete(name);
    this.o.log.info(
      { [F.destination]: name },
      current ? 'destination updated' : 'destination loaded',
    );
  }

  private remove(key: string): void {
    const parts = key.split('/');
    const name = `${parts[parts.length - 2]}/${parts[parts.length - 1]}`;
    this.rejected.delete(key);
    if (!this.running.has(name)) return;
    this.o.children.stop(name);
    this.running.delete(name);
    this.o.log.info({ [F.destination]: name }, 'destination deleted');
  }
}
