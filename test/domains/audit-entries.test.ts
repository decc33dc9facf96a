import { afterAll, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit.js';
import { openSavepoint } from '../../src/savepoint.js';
import { testStorages } from '../support/storages.js';

const { storages, cleanup } = await testStorages('sp_audit_entries');
afterAll(cleanup);

describe.each(
  storages.filter((storage) => storage.enabled).map((storage) => [storage.name, storage] as const),
)('resets and replacing imports leave an audit entry on %s', (_name, storage) => {
  it('rankings reset and import, and stats reset', async () => {
    const savepoint = await openSavepoint({ url: storage.url() });
    try {
      await savepoint.rankings.set('s1', 0, 1.5);
      await savepoint.rankings.reset();
      await savepoint.rankings.importReplace({
        version: 1,
        exportedAt: new Date().toISOString(),
        count: 1,
        entries: [{ stateKey: 's2', move: 1, value: 2 }],
      });
      await savepoint.stats.recordGame({ outcome: 'win' });
      await savepoint.stats.reset();
      const entries = await readAudit(savepoint.store);
      expect(entries.map((entry) => entry.type)).toEqual([
        'rankings-reset',
        'rankings-import',
        'stats-reset',
      ]);
      expect(entries[1]?.data).toMatchObject({ imported: 1 });
      expect((await savepoint.stats.summary()).gamesRecorded).toBe(0);
    } finally {
      await savepoint.close();
    }
  });
});
