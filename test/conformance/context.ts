import { randomUUID } from 'node:crypto';
import type { ManualClock } from '../../src/engine/clock.js';
import type { Clock, Store } from '../../src/engine/store.js';

/** How the suite reaches a driver under test (after Keyv's test-suite module). */
export interface ConformanceTarget {
  /** Opens a store on a fresh, empty backing (a new file, schema or key prefix). */
  open(options: { readonly clock: Clock }): Promise<Store>;
  /** Removes what `open` created; called once after the suite. */
  cleanup?(): Promise<void>;
}

/** What each group of conformance tests gets: the store, its clock, and unique names. */
export interface ConformanceContext {
  readonly store: () => Store;
  readonly clock: ManualClock;
  /** A name no other test uses, so tests share one store without seeing each other's records. */
  readonly unique: (prefix: string) => string;
}

export function uniqueFactory(): (prefix: string) => string {
  const run = randomUUID().slice(0, 8);
  let counter = 0;
  return (prefix) => `${prefix}-${run}-${++counter}`;
}
