import { AlertmgrError, ValidationError } from '../errors.js';

/*
 * Errors only the command line raises. They follow the classes of src/errors.ts (a stable
 * `code`, the domain fields they concern) and could move there once another stage needs them.
 */

/** The object a command names does not exist. */
export class NotFoundError extends AlertmgrError {
  readonly code = 'E_NOT_FOUND';

  constructor(
    readonly kind: string,
    readonly tenant: string,
    /** `name` would shadow Error's own. */
    readonly objectName: string,
  ) {
    super(
      `${kind.toLowerCase()} ${JSON.stringify(objectName)} ` +
        `not found in tenant ${JSON.stringify(tenant)}`,
    );
  }
}

/**
 * A problem in what `apply` was given: a file it cannot read, or one document in it that is
 * not a valid object. `document` is 1-based and 0 when the problem concerns the whole file.
 */
export class ManifestError extends AlertmgrError {
  readonly code = 'E_MANIFEST';

  constructor(
    readonly source: string,
    readonly document: number,
    readonly field: string,
    readonly problem: string,
  ) {
    const where = document > 0 ? `${source}: document ${document}` : source;
    super(field ? `${where}: ${field}: ${problem}` : `${where}: ${problem}`);
  }
}

/** A stored value that is not a valid object. The user's input is fine; etcd's content is not. */
export class InvalidObjectError extends AlertmgrError {
  readonly code = 'E_INVALID_OBJECT';

  constructor(
    readonly key: string,
    cause: ValidationError,
  ) {
    super(`${key} holds an invalid object: ${cause.message}`, { cause });
  }
}

/** The object is in a state the command cannot act on, e.g. acknowledging a resolved alert. */
export class StateError extends AlertmgrError {
  readonly code = 'E_STATE';
}

export const EXIT_OK = 0;
/** A runtime failure: etcd unreachable, an unknown object, a conflict that did not settle. */
export const EXIT_FAILURE = 1;
/** Bad usage or invalid input: nothing was changed. */
export const EXIT_USAGE = 2;

export function exitCodeOf(error: unknown): number {
  if (error instanceof ValidationError || error instanceof ManifestError) return EXIT_USAGE;
  return EXIT_FAILURE;
}
