import * as vitest from 'vitest';
import { runConformance } from '../../src/testing/index.js';
import { testDriver } from '../support/storages.js';

const memory = await testDriver('memory', 'sp_conformance');

vitest.describe.skipIf(!memory.enabled)('memory', () => {
  runConformance(vitest, memory.openDriver, { name: 'memory', cleanup: memory.cleanup });
});
