import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { Store } from '../../src/engine/store.js';
import { runConformance } from '../conformance/run-conformance.js';

const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'savepoint-conformance-'));

runConformance('sqlite', {
  open: async ({ clock }) =>
    new Store(await openSqliteDriver({ path: path.join(directory, 'store.db') }), { clock }),
  cleanup: async () => fs.rmSync(directory, { recursive: true, force: true }),
});
