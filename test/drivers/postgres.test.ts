import * as vitest from 'vitest';
import { runConformance } from '../../src/testing/index.js';
import { testDriver } from '../support/storages.js';

const pg = await testDriver('postgres', 'sp_conformance');

vitest.describe.skipIf(!pg.enabled)('postgres', () => {
  runConformance(vitest, pg.openDriver, { name: 'postgres', cleanup: pg.cleanup });
});
