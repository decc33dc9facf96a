/** `savepoint check` and `GET /v1/admin/check` (docs/api.md#operations). */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { runCheck } from '../../src/cli/commands/check.js';
import { loadConfig } from '../../src/config.js';
import type { CommitOp } from '../../src/engine/types.js';
import { openSavepoint } from '../../src/savepoint.js';
import { damagedStore } from '../recovery/corrupt-fixtures.js';
import { json, startTestServer } from '../support/http.js';

const dirs: string[] = [];
function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'savepoint-check-'));
  dirs.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

async function check(dataDir: string): Promise<{ healthy: boolean; report: string }> {
  const out = new PassThrough();
  let report = '';
  out.on('data', (chunk) => {
    report += String(chunk);
  });
  const healthy = await runCheck(loadConfig({ env: { SAVEPOINT_DATA_DIR: dataDir } }), { out, err: out });
  return { healthy, report };
}

const ORPHANS: CommitOp[] = [
  { op: 'put' as const, collection: 'round', key: 'm-gone:1', value: { promptText: 'x' } },
  { op: 'put' as const, collection: 'game-token', key: 'g-gone/alice', value: { hash: 'h' } },
];

describe('savepoint check', () => {
  it('a sound store is healthy; orphans make it unhealthy with a readable report', async () => {
    const dataDir = tempDir();
    const savepoint = await openSavepoint({ url: `sqlite:${join(dataDir, 'savepoint.db')}` });
    await savepoint.store.commit([
      { op: 'put', collection: 'match', key: 'm1', value: {} },
      { op: 'put', collection: 'round', key: 'm1:1', value: {} },
    ]);
    await savepoint.close();
    const sound = await check(dataDir);
    expect(sound.report).toMatch(/^ok +integrity_check/m);
    expect(sound.report).toMatch(/^ok +relationships/m);
    expect(sound.healthy).toBe(true);

    const again = await openSavepoint({ url: `sqlite:${join(dataDir, 'savepoint.db')}` });
    await again.store.commit(ORPHANS);
    await again.close();
    const broken = await check(dataDir);
    expect(broken.healthy).toBe(false);
    expect(broken.report).toMatch(
      /^FAIL +relationships .*round\/m-gone:1 belongs to no match .*game-token\/g-gone\/alice belongs to no live game/m,
    );
  });

  it('a damaged file is reported, not quarantined', async () => {
    const dataDir = tempDir();
    await damagedStore(dataDir, 'page-garbage');
    const result = await check(dataDir);
    expect(result.healthy).toBe(false);
    expect(result.report).toMatch(
      /^FAIL +integrity_check .*savepoint\.db (fails the integrity check|cannot be opened)/m,
    );
    expect(existsSync(join(dataDir, 'savepoint.db'))).toBe(true);
  });
});

describe('GET /v1/admin/check', () => {
  it('answers { ok, problems }', async () => {
    const server = await startTestServer();
    try {
      expect(json(await server.request({ method: 'GET', url: '/v1/admin/check' }))).toEqual({
        ok: true,
        problems: [],
      });
      await server.savepoint.store.commit(ORPHANS);
      const answer = json<{ ok: boolean; problems: string[] }>(
        await server.request({ method: 'GET', url: '/v1/admin/check' }),
      );
      expect(answer.ok).toBe(false);
      expect(answer.problems).toHaveLength(2);
    } finally {
      await server.close();
    }
  });
});
