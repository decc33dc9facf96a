import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rankingsModule } from '../../src/domains/rankings/rankings.module.js';
import { TEST_AUTH as auth, expectProblem, json, startTestServer, type TestServer } from '../support/http.js';

let server: TestServer;
let app: FastifyInstance;

beforeAll(async () => {
  server = await startTestServer({
    env: { SAVEPOINT_RANKING_MIN: '-100', SAVEPOINT_RANKING_MAX: '100' },
    modules: [rankingsModule],
  });
  app = server.app;
});
afterAll(() => server.close());

interface Entry {
  stateKey: string;
  move: number;
  value: number;
}

const entries = (size: number, salt = 0): Entry[] =>
  Array.from({ length: size }, (_, i) => ({
    stateKey: `board:${i >> 3}`,
    move: i & 7,
    value: ((i * 7919 + salt) % 2000) / 20 - 50,
  }));

const exportTable = async () => {
  const response = await app.inject({ method: 'GET', url: '/v1/rankings/export', headers: auth });
  expect(response.statusCode).toBe(200);
  expect(response.headers['content-type']).toMatch(/^application\/json/);
  return json<{ version: number; exportedAt: string; count: number; entries: Entry[] }>(response);
};

describe('rankings over HTTP', () => {
  it('reads and writes single values with bounds', async () => {
    const url = '/v1/rankings/X.O:X..@1/4';
    expectProblem(await app.inject({ method: 'GET', url, headers: auth }), 404, 'NOT_FOUND');
    const put = await app.inject({ method: 'PUT', url, headers: auth, payload: { value: 0.5 } });
    expect(put.statusCode).toBe(200);
    expect(json(put)).toEqual({ stateKey: 'X.O:X..@1', move: 4, value: 0.5 });
    expect(json(await app.inject({ method: 'GET', url, headers: auth }))).toEqual({
      stateKey: 'X.O:X..@1',
      move: 4,
      value: 0.5,
    });

    expectProblem(
      await app.inject({ method: 'PUT', url, headers: auth, payload: { value: 100.5 } }),
      400,
      'OUT_OF_BOUNDS',
    );
    expectProblem(
      await app.inject({ method: 'PUT', url, headers: auth, payload: { value: -101 } }),
      400,
      'OUT_OF_BOUNDS',
    );
    expectProblem(
      await app.inject({ method: 'PUT', url, headers: auth, payload: { value: 'NaN' } }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await app.inject({ method: 'PUT', url, headers: auth, payload: { value: null } }),
      400,
      'INVALID_INPUT',
    );
    // 1e999 parses to Infinity.
    const infinite = await app.inject({
      method: 'PUT',
      url,
      headers: { ...auth, 'content-type': 'application/json' },
      payload: '{"value":1e999}',
    });
    expectProblem(infinite, 400, 'INVALID_INPUT');
    for (const move of ['-1', '1.5', 'x', '99999999999999999999']) {
      expectProblem(
        await app.inject({
          method: 'PUT',
          url: `/v1/rankings/s/${move}`,
          headers: auth,
          payload: { value: 1 },
        }),
        400,
        'INVALID_INPUT',
      );
    }
    expectProblem(
      await app.inject({ method: 'GET', url: '/v1/rankings/s/-1', headers: auth }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(await app.inject({ method: 'PUT', url, payload: { value: 1 } }), 401, 'UNAUTHORIZED');
  });

  it('writes batches all or nothing, exports, resets', async () => {
    expect((await app.inject({ method: 'DELETE', url: '/v1/rankings', headers: auth })).statusCode).toBe(204);
    const batch = await app.inject({
      method: 'POST',
      url: '/v1/rankings/batch',
      headers: auth,
      payload: { entries: entries(40) },
    });
    expect(batch.statusCode).toBe(200);
    expect(json(batch)).toEqual({ written: 40 });
    const bad = await app.inject({
      method: 'POST',
      url: '/v1/rankings/batch',
      headers: auth,
      payload: { entries: [...entries(5, 1), { stateKey: 'z', move: 0, value: 1000 }] },
    });
    expect(expectProblem(bad, 400, 'OUT_OF_BOUNDS').detail).toContain('entries[5]');
    const missing = await app.inject({
      method: 'POST',
      url: '/v1/rankings/batch',
      headers: auth,
      payload: { entries: [{ stateKey: 'z', value: 1 }] },
    });
    expectProblem(missing, 400, 'INVALID_INPUT');
    const table = await exportTable();
    expect(table).toMatchObject({ version: 1, count: 40 });
    expect(table.entries).toHaveLength(40);
    expect(table.entries).toEqual(expect.arrayContaining(entries(40)));
    expect((await app.inject({ method: 'DELETE', url: '/v1/rankings', headers: auth })).statusCode).toBe(204);
    expect(await exportTable()).toMatchObject({ count: 0, entries: [] });
  });

  it('imports an export document over 1 MiB, atomically', async () => {
    const big = entries(25_000, 3);
    const document = { version: 1, exportedAt: new Date().toISOString(), count: big.length, entries: big };
    expect(JSON.stringify(document).length).toBeGreaterThan(1024 * 1024);
    const imported = await app.inject({
      method: 'POST',
      url: '/v1/rankings/import',
      headers: auth,
      payload: document,
    });
    expect(imported.statusCode).toBe(200);
    expect(json(imported)).toEqual({ imported: 25_000 });
    const table = await exportTable();
    expect(table.count).toBe(25_000);

    for (const entry of [
      { stateKey: 'q', move: 0, value: 'NaN' },
      { stateKey: 'q', move: 0 },
      { stateKey: 'q', move: 0, value: 500 },
    ]) {
      const response = await app.inject({
        method: 'POST',
        url: '/v1/rankings/import',
        headers: auth,
        payload: { version: 1, entries: [...entries(10, 9), entry] },
      });
      expect(response.statusCode).toBe(400);
    }
    expectProblem(
      await app.inject({
        method: 'POST',
        url: '/v1/rankings/import',
        headers: auth,
        payload: { version: 1, count: 2, entries: entries(1) },
      }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await app.inject({
        method: 'POST',
        url: '/v1/rankings/import',
        headers: auth,
        payload: { version: 2, entries: [] },
      }),
      400,
      'INVALID_INPUT',
    );
    const after = await exportTable();
    expect(after.count).toBe(25_000);
    expect(after.entries).toEqual(table.entries);
  });
});
