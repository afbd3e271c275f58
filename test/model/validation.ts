import { expect } from 'vitest';

import { ValidationError } from '../../src/errors.js';

/** Runs `action`, expects it to throw a ValidationError and returns that error. */
export function validationError(action: () => unknown): ValidationError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError, but nothing was thrown');
}
