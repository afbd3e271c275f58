import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

import type { Store } from '../../src/store/index.js';
import { json } from './harness.js';

/*
 * Objects and helpers the CLI tests share: sample manifests, temporary directories, a
 * distinct etcd prefix per test, and a way to plant an alert as the daemon would write it.
 */

let prefixes = 0;

/** A prefix no other test of this file uses, so tests never see each other's objects. */
export function uniquePrefix(label: string): string {
  prefixes += 1;
  return `/t-${label}-${prefixes}-${process.pid}`;
}

/** A temporary directory; `remove` deletes it. */
export async function tempDir(): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), 'alertmgr-cli-'));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** Writes `files` (relative name → content) under `root`, creating subdirectories. */
export async function writeFiles(root: string, files: Record<string, string>): Promise<void> {
  for (const [name, content] of Object.entries(files)) {
    const path = join(root, name);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, content);
  }
}

export const POLICY_YAML = `kind: AlertPolicy
meta:
  name: node-down
  tenant: default
spec:
  resource: Node
  severity: critical
  message: node is down
  requirements:
    - key: status.health
      operator: equals
      values: [down]
  destinations: [ops-file]
`;

export const DESTINATION_YAML = `kind: AlertDestination
meta:
  name: ops-file
  tenant: default
spec:
  fileExport:
    path: /tmp/alertmgr-cli-test-alerts.jsonl
`;

export const NODE_YAML = `kind: Node
meta:
  name: n1
  tenant: default
  labels:
    rack: r1
status:
  health: up
`;

/** A policy as a plain object, for JSON manifests. */
export function policyObject(name: string, tenant = 'default', severity = 'warn') {
  return {
    kind: 'AlertPolicy',
    meta: { name, tenant },
    spec: {
      resource: 'Node',
      severity,
      message: `${name} fired`,
      requirements: [{ key: 'status.health', operator: 'equals', values: ['down'] }],
    },
  };
}

export function nodeObject(name: string, tenant = 'default', health = 'up') {
  return { kind: 'Node', meta: { name, tenant }, status: { health } };
}

/** Every key under `prefix`, sorted. */
export async function keysUnder(store: Store, prefix: string): Promise<string[]> {
  const page = await store.list(`${prefix}/`);
  return page.items.map((kv) => kv.key).sort();
}

/** The JSON stored at `key`, or undefined when the key is absent. */
export async function stored(store: Store, key: string): Promise<Record<string, any> | undefined> {
  const kv = await store.get(key);
  return kv === undefined ? undefined : json(kv.value);
}

export interface AlertSeed {
  readonly name: string;
  readonly tenant?: string;
  readonly state?: 'open' | 'acknowledged' | 'resolved';
  readonly acknowledged?: { user: string; time: string };
  readonly resolved?: { user: string; time: string };
}

/**
 * Writes an alert in the shape the daemon writes (contract section 2, Alert), as if alertmgr
 * had opened it. Returns the key.
 */
export async function plantAlert(store: Store, prefix: string, seed: AlertSeed): Promise<string> {
  const tenant = seed.tenant ?? 'default';
  const key = `${prefix}/Alert/${tenant}/${seed.name}`;
  const status: Record<string, unknown> = {
    severity: 'critical',
    message: 'node is down',
    objectRef: { kind: 'Node', tenant, name: 'n1' },
    reason: {
      policyId: 'node-down/42',
      matchedRequirements: [
        { key: 'status.health', operator: 'equals', values: ['down'], observedValue: 'down' },
      ],
    },
    totalHits: 2,
  };
  if (seed.acknowledged) status.acknowledged = seed.acknowledged;
  if (seed.resolved) status.resolved = seed.resolved;
  const alert = {
    kind: 'Alert',
    meta: {
      name: seed.name,
      tenant,
      creationTime: '2024-05-01T12:00:00.000Z',
      modTime: '2024-05-01T12:00:00.000Z',
    },
    spec: { state: seed.state ?? 'open' },
    status,
  };
  await store.put(key, JSON.stringify(alert));
  return key;
}

/** stderr holds exactly one non-empty line (the contract's one-line error). */
export function oneLineError(stderr: string): string {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '');
  if (lines.length !== 1) {
    throw new Error(`expected one line on stderr, got ${lines.length}: ${JSON.stringify(stderr)}`);
  }
  return lines[0]!;
}
