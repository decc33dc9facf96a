import { expect } from 'vitest';
import { type ErrorCode, SavepointError } from '../../src/errors.js';

/** Awaits `promise`, expects it to reject with a catalog error of `code`, and returns that error. */
export async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<SavepointError> {
  let caught: unknown;
  try {
    await promise;
  } catch (error) {
    caught = error;
  }
  expect(caught, `expected a ${code} error`).toBeInstanceOf(SavepointError);
  expect((caught as SavepointError).code).toBe(code);
  return caught as SavepointError;
}
