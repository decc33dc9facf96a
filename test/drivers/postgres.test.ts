import postgres from 'postgres';
import { describe } from 'vitest';
import { openPostgresDriver } from '../../src/drivers/postgres/postgres-driver.js';
import { Store } from '../../src/engine/store.js';
import { runConformance } from '../conformance/run-conformance.js';
import { postgresAvailable, postgresUrl, uniqueName } from '../support/services.js';

const available = await postgresAvailable();
const schema = uniqueName('sp_conformance');

describe.skipIf(!available)('postgres', () => {
  runConformance('postgres', {
    open: async ({ clock }) => new Store(await openPostgresDriver({ url: postgresUrl, schema }), { clock }),
    cleanup: async () => {
      const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
      await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
      await sql.end();
    },
  });
});
