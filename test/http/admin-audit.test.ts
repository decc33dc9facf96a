/** The audit log (docs/api.md#operations): sweeps, start-up fallbacks and the helper other modules call. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { AUDIT_STREAM, appendAudit, readAudit } from '../../src/audit.js';
import { ManualClock } from '../../src/engine/clock.js';
import { sweepAll } from '../../src/http/sweeper.js';
import { damagedStore } from '../recovery/corrupt-fixtures.js';
import { expectProblem, json, startTestServer } from '../support/http.js';

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

interface AuditAnswer {
  events: Array<{ seq: number; type: string; data: Record<string, unknown>; at: string }>;
}

describe('GET /v1/admin/audit', () => {
  it('records every admin sweep and every sweep that removed something, with counts by collection', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const server = await startTestServer({ savepoint: { url: 'memory:', clock: clock.now } });
    try {
      const { store } = server.savepoint;
      await store.commit([
        { op: 'put', collection: 'match', key: 'm1', value: 1, ttlMs: 1000 },
        { op: 'put', collection: 'round', key: 'm1:1', value: 1, ttlMs: 1000 },
        { op: 'put', collection: 'round', key: 'm1:2', value: 1, ttlMs: 1000 },
      ]);
      clock.advance(5000);
      expect((await server.request({ method: 'POST', url: '/v1/admin/sweep' })).statusCode).toBe(200);
      // A background sweep that found nothing leaves no entry; one that removed something does.
      await sweepAll(server.savepoint, { trigger: 'background' });
      await store.commit([{ op: 'put', collection: 'session', key: 's', value: 1, ttlMs: 10 }]);
      clock.advance(100);
      await sweepAll(server.savepoint, { trigger: 'background' });

      const response = await server.request({ method: 'GET', url: '/v1/admin/audit' });
      expect(response.statusCode).toBe(200);
      const { events } = json<AuditAnswer>(response);
      expect(events).toEqual([
        {
          seq: 1,
          type: 'sweep',
          data: {
            trigger: 'admin',
            documents: { match: 1, round: 2 },
            streams: 0,
            boards: 0,
            total: 3,
            more: false,
          },
          at: new Date(Date.UTC(2030, 0, 1, 0, 0, 5)).toISOString(),
        },
        {
          seq: 2,
          type: 'sweep',
          data: expect.objectContaining({ trigger: 'background', documents: { session: 1 }, total: 1 }),
          at: expect.any(String),
        },
      ]);
      const after = json<AuditAnswer>(
        await server.request({ method: 'GET', url: '/v1/admin/audit?after=1&limit=5' }),
      );
      expect(after.events.map((event) => event.seq)).toEqual([2]);
      expectProblem(
        await server.request({ method: 'GET', url: '/v1/admin/audit', anonymous: true }),
        401,
        'UNAUTHORIZED',
      );
      expectProblem(
        await server.request({ method: 'GET', url: '/v1/admin/audit?limit=0' }),
        400,
        'INVALID_INPUT',
      );
    } finally {
      await server.close();
    }
  });

  it('appendAudit is the one helper for imports and resets', async () => {
    const server = await startTestServer();
    try {
      const seq = await appendAudit(server.savepoint.store, 'rankings-reset', { removed: 12 });
      expect(seq).toBe(1);
      const [entry] = await readAudit(server.savepoint.store);
      expect(entry).toMatchObject({ seq: 1, type: 'rankings-reset', data: { removed: 12 } });
      expect(await server.savepoint.store.streamHead(AUDIT_STREAM)).toBe(1);
    } finally {
      await server.close();
    }
  });

  it('a start-up fallback is in the audit log once, and in /health', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'savepoint-admin-audit-'));
    dirs.push(dir);
    await damagedStore(dir, 'random-bytes');
    const server = await startTestServer({
      dataDir: dir,
      savepoint: { url: `sqlite:${join(dir, 'savepoint.db')}` },
    });
    try {
      const { events } = json<AuditAnswer>(await server.request({ method: 'GET', url: '/v1/admin/audit' }));
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        type: 'recovery',
        data: {
          action: 'started-empty',
          reason: 'not a SQLite database (bad header)',
          quarantinedTo: expect.stringContaining('.corrupt-'),
        },
      });
      const health = json(await server.request({ method: 'GET', url: '/health', anonymous: true }));
      expect(health).toMatchObject({ status: 'degraded', recovery: { action: 'started-empty' } });
    } finally {
      await server.close();
    }
  });
});
