import * as vitest from 'vitest';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { runConformance } from '../../src/testing/index.js';
import { testDriver } from '../support/storages.js';

const sqlite = await testDriver('sqlite', 'sp_conformance');

vitest.describe.skipIf(!sqlite.enabled)('sqlite', () => {
  runConformance(vitest, sqlite.openDriver, { name: 'sqlite', cleanup: sqlite.cleanup });
  // An in-memory SQLite database: the same SQL without a file (the CLI's `sqlite::memory:`).
  runConformance(vitest, () => openSqliteDriver({ path: ':memory:' }), { name: 'sqlite :memory:' });
});
