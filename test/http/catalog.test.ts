import fs from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seedCatalogFromDirectory } from '../../src/domains/catalog/catalog.js';
import { catalogModule } from '../../src/domains/catalog/catalog.module.js';
import type { Savepoint } from '../../src/savepoint.js';
import { expectProblem, json, startTestServer, type TestServer } from '../support/http.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples/seeds');
let server: TestServer;
let savepoint: Savepoint;
let app: FastifyInstance;

beforeAll(async () => {
  server = await startTestServer({ modules: [catalogModule] });
  ({ savepoint, app } = server);
});
afterAll(() => server.close());

const seedFile = (kind: string) =>
  JSON.parse(fs.readFileSync(path.join(EXAMPLES, `${kind}.json`), 'utf8')) as {
    version: string;
    updated_at: string;
    data: Array<{ id: string }>;
  };

describe('catalog over HTTP', () => {
  it('serves an empty catalog, then the seeded one, without a key', async () => {
    expect(json(await app.inject({ method: 'GET', url: '/v1/catalog' }))).toEqual({ version: 0, kinds: [] });
    expectProblem(await app.inject({ method: 'GET', url: '/v1/catalog/enemies' }), 404, 'NOT_FOUND');
    await seedCatalogFromDirectory(savepoint.store, EXAMPLES);

    const overview = await app.inject({ method: 'GET', url: '/v1/catalog' });
    expect(overview.statusCode).toBe(200);
    const body = json<{ version: number; kinds: Array<Record<string, unknown>> }>(overview);
    expect(body.version).toBe(1);
    expect(body.kinds.find((k) => k.kind === 'items')).toMatchObject({
      kind: 'items',
      version: seedFile('items').version,
      updatedAt: seedFile('items').updated_at,
      count: seedFile('items').data.length,
    });
    const etag = overview.headers.etag as string;
    expect(
      (await app.inject({ method: 'GET', url: '/v1/catalog', headers: { 'if-none-match': etag } }))
        .statusCode,
    ).toBe(304);
  });

  it('serves a kind with an ETag and 304, and single records', async () => {
    const enemies = seedFile('enemies');
    const response = await app.inject({ method: 'GET', url: '/v1/catalog/enemies' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^application\/json/);
    expect(json(response)).toMatchObject({
      kind: 'enemies',
      version: enemies.version,
      updatedAt: enemies.updated_at,
      data: enemies.data,
    });
    const etag = response.headers.etag as string;
    expect(etag).toMatch(/^"[0-9a-f]+"$/);
    const cached = await app.inject({
      method: 'GET',
      url: '/v1/catalog/enemies',
      headers: { 'if-none-match': `W/${etag}, "x"` },
    });
    expect(cached.statusCode).toBe(304);
    expect(cached.body).toBe('');
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/v1/catalog/enemies',
          headers: { 'if-none-match': '"other"' },
        })
      ).statusCode,
    ).toBe(200);

    const goblin = await app.inject({ method: 'GET', url: '/v1/catalog/enemies/goblin' });
    expect(goblin.statusCode).toBe(200);
    expect(json(goblin)).toEqual(enemies.data.find((e) => e.id === 'goblin'));
    expectProblem(await app.inject({ method: 'GET', url: '/v1/catalog/enemies/unicorn' }), 404, 'NOT_FOUND');
    expectProblem(await app.inject({ method: 'GET', url: '/v1/catalog/bad%20kind' }), 400, 'INVALID_INPUT');
  });

  it('needs the key when public reads are off', async () => {
    // A second server on the same (seeded) store.
    const closed = await startTestServer({
      env: { SAVEPOINT_PUBLIC_READS: 'false' },
      savepoint,
      modules: [catalogModule],
    });
    expectProblem(await closed.app.inject({ method: 'GET', url: '/v1/catalog' }), 401, 'UNAUTHORIZED');
    const keyed = await closed.app.inject({ method: 'GET', url: '/v1/catalog/items', headers: closed.auth });
    expect(keyed.statusCode).toBe(200);
    await closed.close();
  });
});
