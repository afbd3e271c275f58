import { randomBytes } from 'node:crypto';

import { normalizePrefix } from '../model/index.js';
import type { Store } from '../store/index.js';

/**
 * etcd refuses requests over 1.5 MiB by default, and a snapshot of a large installation is
 * tens of megabytes, so it is stored in chunks well under that limit.
 */
export const CHUNK_BYTES = 1024 * 1024;

/** Where a stage's current snapshot is, written last so it only ever names whole chunks. */
interface Head {
  readonly id: string;
  readonly chunks: number;
  readonly bytes: number;
  readonly revision: number;
}

/**
 * Stage snapshots in etcd, under `<statePrefix>/snapshots/<stage>/`: the chunks of each
 * snapshot under an id of their own, and a `head` key naming the current one. A save writes
 * the new chunks, then moves the head, then deletes the old chunks, so a crash at any point
 * leaves the previous snapshot or the new one readable, never a mix.
 */
export class SnapshotStore {
  private readonly root: string;

  constructor(
    private readonly store: Store,
    statePrefix: string,
  ) {
    this.root = `${normalizePrefix(statePrefix)}/snapshots`;
  }

  async save(stage: string, bytes: Uint8Array, revision: number): Promise<void> {
    const previous = await this.head(stage);
    const id = `${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
    const chunks = Math.max(1, Math.ceil(bytes.byteLength / CHUNK_BYTES));
    for (let i = 0; i < chunks; i++) {
      const chunk = bytes.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES);
      await this.store.put(this.chunkKey(stage, id, i), chunk);
    }
    const head: Head = { id, chunks, bytes: bytes.byteLength, revision };
    await this.store.put(this.headKey(stage), JSON.stringify(head));
    if (previous && previous.id !== id) await this.drop(stage, previous);
  }

  /** The stage's snapshot bytes, or undefined when there is none or it is incomplete. */
  async load(stage: string): Promise<Uint8Array | undefined> {
    const head = await this.head(stage);
    if (!head) return undefined;
    const parts: Uint8Array[] = [];
    for (let i = 0; i < head.chunks; i++) {
      const kv = await this.store.get(this.chunkKey(stage, head.id, i));
      if (!kv) return undefined;
      parts.push(kv.value);
    }
    const bytes = Buffer.concat(parts);
    return bytes.byteLength === head.bytes ? bytes : undefined;
  }

  /** Removes a stage's snapshot, for one that failed to decode. */
  async remove(stage: string): Promise<void> {
    const head = await this.head(stage);
    await this.store.delete(this.headKey(stage));
    if (head) await this.drop(stage, head);
  }

  private async head(stage: string): Promise<Head | undefined> {
    const kv = await this.store.get(this.headKey(stage));
    if (!kv) return undefined;
    try {
      const head = JSON.parse(Buffer.from(kv.value).toString()) as Partial<Head>;
      const valid =
        typeof head.id === 'string' &&
        Number.isSafeInteger(head.chunks) &&
        Number.isSafeInteger(head.bytes) &&
        typeof head.revision === 'number';
      return valid ? (head as Head) : undefined;
    } catch {
      return undefined;
    }
  }

  private async drop(stage: string, head: Head): Promise<void> {
    for (let i = 0; i < head.chunks; i++) await this.store.delete(this.chunkKey(stage, head.id, i));
  }

  private headKey(stage: string): string {
    return `${this.root}/${stage}/head`;
  }

  private chunkKey(stage: string, id: string, index: number): string {
    return `${this.root}/${stage}/${id}/${String(index).padStart(5, '0')}`;
  }
}
