import { randomUUID } from 'node:crypto';
import type { ManualClock } from '../engine/clock.js';
import type { Driver } from '../engine/driver.js';
import type { Store } from '../engine/store.js';

/** Opens a driver on a fresh, empty backing (a new file, schema or key prefix) on every call. */
export type DriverFactory = () => Driver | Promise<Driver>;

/** The groups of the suite; `ConformanceOptions.skip` names those a driver leaves out. */
export type ConformanceGroup =
  | 'documents'
  | 'commits'
  | 'streams'
  | 'boards'
  | 'expiry'
  | 'change-feed'
  | 'properties'
  | 'idempotency'
  | 'dump';

/** Registers a group of tests (Vitest's and node:test's `describe` both fit). */
export type SuiteFunction = (name: string, body: () => void) => unknown;
/** Registers one test. */
export type TestFunction = (name: string, body: () => Promise<void>) => unknown;
/** Registers a hook that runs once, before or after the tests of the group it is in. */
export type HookFunction = (body: () => Promise<void>) => unknown;

/** What each group of conformance tests gets: the store, its clock, unique names, and the runner. */
export interface ConformanceContext {
  /** The store every group but `dump` shares, opened once before the suite. */
  readonly store: () => Store;
  readonly clock: ManualClock;
  /** A name no other test uses, so tests share one store without seeing each other's records. */
  readonly unique: (prefix: string) => string;
  /** Opens a store on a fresh driver with `clock`, runs `use`, and closes it (for the dump group). */
  readonly using: <T>(clock: ManualClock, use: (store: Store) => Promise<T>) => Promise<T>;
  /** Whether a group runs: a test in one group that also needs another (a board op in a commit) asks. */
  readonly runs: (group: ConformanceGroup) => boolean;
  readonly describe: SuiteFunction;
  readonly it: TestFunction;
  readonly beforeAll: HookFunction;
}

export function uniqueFactory(): (prefix: string) => string {
  const run = randomUUID().slice(0, 8);
  let counter = 0;
  return (prefix) => `${prefix}-${run}-${++counter}`;
}
