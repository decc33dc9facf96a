/**
 * `savepoint/testing`: the conformance suite every Savepoint driver passes, for drivers written
 * outside this repository. See docs/drivers.md.
 *
 * ```ts
 * import * as vitest from 'vitest'; // or: import * as test from 'node:test'
 * import { runConformance } from 'savepoint/testing';
 * runConformance(vitest, () => openMyDriver(), { name: 'my-driver' });
 * ```
 */
export { openMemoryDriver } from '../drivers/memory/memory-driver.js';
export type {
  ConformanceGroup,
  DriverFactory,
  HookFunction,
  SuiteFunction,
  TestFunction,
} from './context.js';
export { type ConformanceOptions, runConformance, type TestRunner } from './run-conformance.js';
