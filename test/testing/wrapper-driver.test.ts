/**
 * A driver written outside src/ passes the conformance suite through the published entry point,
 * `savepoint/testing` (the package's own name, so dist/, which `npm test` builds before Vitest
 * runs), the way docs/drivers.md tells a driver author to run it. A driver without boards passes it
 * too once it says so, and never sees a board op.
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { runConformance } from 'savepoint/testing';
import * as vitest from 'vitest';
import { openWrapperDriver, WrapperDriver } from './wrapper-driver.js';

const { describe, expect, it } = vitest;

describe('savepoint/testing', () => {
  it('is the built package entry, not the source', () => {
    const resolved = createRequire(import.meta.url).resolve('savepoint/testing');
    expect(resolved).toBe(fileURLToPath(new URL('../../dist/testing/index.js', import.meta.url)));
  });
});

runConformance(vitest, () => openWrapperDriver(), { name: 'a wrapper driver outside src' });

runConformance(vitest, () => openWrapperDriver({ boards: false }), {
  name: 'a wrapper driver without boards',
  skip: ['boards'],
});

describe('after both suites', () => {
  it('every store the suites used was a wrapper driver', () => {
    // Several thousand calls: each test reads and commits through the wrapper.
    expect(WrapperDriver.calls).toBeGreaterThan(1000);
  });
});
