// The conformance suite under node:test, through the package export, as docs/drivers.md shows it:
// once in full over the memory driver, once with two groups skipped. Spawned by
// node-test-runner.test.ts with `node --test`.
import * as test from 'node:test';
import { openMemoryDriver, runConformance } from 'savepoint/testing';

runConformance(test, () => openMemoryDriver(), { name: 'memory under node:test' });
runConformance(test, () => openMemoryDriver(), {
  name: 'memory under node:test, without properties and dump',
  skip: ['properties', 'dump'],
});
