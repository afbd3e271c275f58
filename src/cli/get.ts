import type { Clock } from '../clock.js';
import { formatKey, kindPrefix, type ObjectRef, type StoredObject } from '../model/index.js';
import type { Store } from '../store/index.js';
import { InvalidObjectError, NotFoundError } from './errors.js';
import { writeLine, type Io } from './io.js';
import { decodeStored } from './objects.js';
import { renderDocument, renderTable, type OutputFormat } from './render.js';

export interface GetRequest {
  readonly kind: string;
  /** One object when given, else every object of the kind in the tenant (or all tenants). */
  readonly name?: string;
  readonly tenant: string;
  readonly allTenants: boolean;
  readonly output: OutputFormat;
}

export async function getObjects(
  store: Store,
  prefix: string,
  request: GetRequest,
  clock: Clock,
  io: Io,
): Promise<void> {
  if (request.name !== undefined) {
    const ref: ObjectRef = { kind: request.kind, tenant: request.tenant, name: request.name };
    const object = await getOne(store, prefix, ref);
    print([object], object, request, clock, io);
    return;
  }

  const objects = await list(store, prefix, request, io);
  if (objects.length === 0 && request.output === 'table') {
    const where = request.allTenants ? 'any tenant' : `tenant ${JSON.stringify(request.tenant)}`;
    writeLine(io.stderr, `no ${request.kind} objects found in ${where}`);
    return;
  }
  print(objects, objects, request, clock, io);
}

async function getOne(store: Store, prefix: string, ref: ObjectRef): Promise<StoredObject> {
  const kv = await store.get(formatKey(prefix, ref));
  if (kv === undefined) throw new NotFoundError(ref.kind, ref.tenant, ref.name);
  return decodeStored(prefix, kv).object;
}

/**
 * Every object of the kind, read in pages at one revision. An entry that is not a valid
 * object is skipped with a warning, as the daemon skips it, so one bad key hides nothing else.
 */
async function list(
  store: Store,
  prefix: string,
  request: GetRequest,
  io: Io,
): Promise<StoredObject[]> {
  const under = kindPrefix(prefix, request.kind);
  const page = await store.list(request.allTenants ? under : `${under}${request.tenant}/`);

  const objects: StoredObject[] = [];
  for (const kv of page.items) {
    try {
      objects.push(decodeStored(prefix, kv).object);
    } catch (err) {
      if (!(err instanceof InvalidObjectError)) throw err;
      writeLine(io.stderr, `warning: skipped ${err.message}`);
    }
  }
  return objects;
}

function print(
  rows: readonly StoredObject[],
  document: StoredObject | readonly StoredObject[],
  request: GetRequest,
  clock: Clock,
  io: Io,
): void {
  if (request.output === 'table') {
    io.stdout.write(renderTable(request.kind, rows, request.allTenants, clock.now()));
  } else {
    io.stdout.write(renderDocument(document, request.output));
  }
}
