import { describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit.js';
import { openSavepoint } from '../../src/savepoint.js';

describe('resets and replacing imports leave an audit entry', () => {
  it('rankings reset and import, and stats reset', async () => {
    const savepoint = await openSavepoint({ url: 'memory:' });
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
