/** Authentication (docs/api.md#authentication): the API key, public reads, route-level auth and the key file. */
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import { resolveApiKey } from '../../src/http/api-key.js';
import { keyMatches } from '../../src/http-kit/auth.js';
import { savepointModules } from '../../src/modules.js';
import {
  expectProblem,
  routesOnly,
  startTestServer,
  TEST_API_KEY,
  type TestServer,
} from '../support/http.js';

/** Routes declaring each auth mode, as domain plugins do. */
const probeRoutes: FastifyPluginAsync = async (app) => {
  app.get('/test/catalog', { config: { auth: 'public-read' } }, async () => ({ open: true }));
  app.post('/test/catalog', { config: { auth: 'public-read' } }, async () => ({ wrote: true }));
  app.post('/test/reconnect', { config: { auth: 'none' } }, async () => ({ player: true }));
  app.get('/test/private', async () => ({ secret: true }));
};

const withProbes = { modules: [...savepointModules, routesOnly('probes', probeRoutes)] };

describe('with public reads (the default)', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
    await server.app.register(probeRoutes);
  });
  afterAll(() => server.close());

  it('a missing key answers 401 UNAUTHORIZED with WWW-Authenticate', async () => {
    const response = await server.request({ method: 'GET', url: '/v1/docs/things/a', anonymous: true });
    expect(expectProblem(response, 401, 'UNAUTHORIZED').detail).toMatch(/Authorization: Bearer/);
    expect(response.headers['www-authenticate']).toMatch(/^Bearer/);
  });

  it.each([
    ['a wrong key', `Bearer ${TEST_API_KEY}x`],
    ['a prefix of the key', `Bearer ${TEST_API_KEY.slice(0, 10)}`],
    ['an empty bearer', 'Bearer '],
    ['another scheme', `Basic ${Buffer.from(`user:${TEST_API_KEY}`).toString('base64')}`],
    ['the bare key', TEST_API_KEY],
    ['two keys', `Bearer ${TEST_API_KEY} ${TEST_API_KEY}`],
  ])('%s answers 401', async (_name, authorization) => {
    const response = await server.request({
      method: 'GET',
      url: '/v1/docs/things/a',
      headers: { authorization },
    });
    expectProblem(response, 401, 'UNAUTHORIZED');
  });

  it('the bare key, without Bearer, is told how to send it, not that it is wrong', async () => {
    const response = await server.request({
      method: 'GET',
      url: '/v1/docs/things/a',
      headers: { authorization: TEST_API_KEY },
    });
    const { detail } = expectProblem(response, 401, 'UNAUTHORIZED');
    expect(detail).toMatch(/the word Bearer, a space, then the key/);
    expect(detail).not.toMatch(/wrong/);
  });

  it('a wrong key after Bearer is called wrong', async () => {
    const response = await server.request({
      method: 'GET',
      url: '/v1/docs/things/a',
      headers: { authorization: `Bearer ${TEST_API_KEY}x` },
    });
    expect(expectProblem(response, 401, 'UNAUTHORIZED').detail).toMatch(/The API key is wrong/);
  });

  it('a refused write writes nothing', async () => {
    const response = await server.request({
      method: 'PUT',
      url: '/v1/docs/things/a',
      payload: { value: 1 },
      anonymous: true,
    });
    expectProblem(response, 401, 'UNAUTHORIZED');
    expect(await server.savepoint.store.get('things', 'a')).toBeUndefined();
  });

  it('the scheme name is case-insensitive', async () => {
    const response = await server.request({
      method: 'GET',
      url: '/test/private',
      headers: { authorization: `bearer ${TEST_API_KEY}` },
    });
    expect(response.statusCode).toBe(200);
  });

  it.each(['/health', '/openapi.json', '/docs', '/test/catalog'])('GET %s needs no key', async (url) => {
    expect((await server.request({ method: 'GET', url, anonymous: true })).statusCode).toBe(200);
  });

  it('HEAD on a public read needs no key', async () => {
    expect((await server.request({ method: 'HEAD', url: '/health', anonymous: true })).statusCode).toBe(200);
  });

  it('a write on a public-read route still needs the key', async () => {
    expectProblem(
      await server.request({ method: 'POST', url: '/test/catalog', anonymous: true }),
      401,
      'UNAUTHORIZED',
    );
    expect((await server.request({ method: 'POST', url: '/test/catalog' })).statusCode).toBe(200);
  });

  it("'none' routes take no key (they check their own credential)", async () => {
    expect(
      (await server.request({ method: 'POST', url: '/test/reconnect', anonymous: true })).statusCode,
    ).toBe(200);
  });

  it('routes say nothing need the key', async () => {
    expectProblem(
      await server.request({ method: 'GET', url: '/test/private', anonymous: true }),
      401,
      'UNAUTHORIZED',
    );
    expectProblem(
      await server.request({ method: 'GET', url: '/metrics', anonymous: true }),
      401,
      'UNAUTHORIZED',
    );
    expectProblem(
      await server.request({ method: 'POST', url: '/v1/admin/sweep', anonymous: true }),
      401,
      'UNAUTHORIZED',
    );
  });

  it('an unknown route answers 404 to anyone', async () => {
    expectProblem(
      await server.request({ method: 'GET', url: '/v1/nothing', anonymous: true }),
      404,
      'NOT_FOUND',
    );
  });

  it('the OpenAPI document marks which routes need the key', async () => {
    const spec = (await server.request({ method: 'GET', url: '/openapi.json', anonymous: true })).json() as {
      paths: Record<string, Record<string, { security?: unknown[] }>>;
    };
    expect(spec.paths['/v1/docs/{collection}/{key}']?.get?.security).toEqual([{ apiKey: [] }]);
    expect(spec.paths['/health']?.get?.security).toEqual([{}, { apiKey: [] }]);
  });
});

describe('with SAVEPOINT_PUBLIC_READS=false', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({ env: { SAVEPOINT_PUBLIC_READS: 'false' } });
    await server.app.register(probeRoutes);
  });
  afterAll(() => server.close());

  it.each(['/health', '/openapi.json', '/docs', '/test/catalog'])('GET %s needs the key', async (url) => {
    expectProblem(await server.request({ method: 'GET', url, anonymous: true }), 401, 'UNAUTHORIZED');
    expect((await server.request({ method: 'GET', url })).statusCode).toBe(200);
  });

  it("'none' routes stay open", async () => {
    expect(
      (await server.request({ method: 'POST', url: '/test/reconnect', anonymous: true })).statusCode,
    ).toBe(200);
  });
});

describe('the api-key file', () => {
  const dirs: string[] = [];
  const tempDir = async () => {
    const dir = await mkdtemp(join(tmpdir(), 'savepoint-key-'));
    dirs.push(dir);
    return dir;
  };
  afterEach(async () => {
    for (const dir of dirs.splice(0)) await rm(dir, { recursive: true, force: true });
  });

  it('is generated at first start with mode 0600, then reused', async () => {
    const dataDir = join(await tempDir(), 'nested', 'data');
    const config = loadConfig({ env: { SAVEPOINT_DATA_DIR: dataDir, SAVEPOINT_SWEEP_INTERVAL: '0' } });
    const first = await resolveApiKey(config);
    expect(first).toMatchObject({ origin: 'file-created', path: join(dataDir, 'api-key') });
    expect(first.key).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect((await stat(join(dataDir, 'api-key'))).mode & 0o777).toBe(0o600);
    expect((await readFile(join(dataDir, 'api-key'), 'utf8')).trim()).toBe(first.key);
    const second = await resolveApiKey(config);
    expect(second).toEqual({ key: first.key, origin: 'file', path: join(dataDir, 'api-key') });
  });

  it('a server started twice on one data dir accepts the same generated key', async () => {
    const dataDir = await tempDir();
    for (let start = 0; start < 2; start++) {
      // No SAVEPOINT_API_KEY: the server generates the key into the data dir, or reads it from there.
      const { app, close } = await startTestServer({
        dataDir,
        env: { SAVEPOINT_API_KEY: undefined },
        ...withProbes,
      });
      const key = (await readFile(join(dataDir, 'api-key'), 'utf8')).trim();
      const ok = await app.inject({
        method: 'GET',
        url: '/test/private',
        headers: { authorization: `Bearer ${key}` },
      });
      expect(ok.statusCode).toBe(200);
      const refused = await app.inject({ method: 'GET', url: '/test/private' });
      expect(refused.statusCode).toBe(401);
      await close();
    }
  });

  it('concurrent first starts agree on one key', async () => {
    const dataDir = await tempDir();
    const config = { dataDir, apiKey: undefined };
    const keys = await Promise.all(Array.from({ length: 5 }, () => resolveApiKey(config)));
    expect(new Set(keys.map((resolved) => resolved.key)).size).toBe(1);
  });

  it('SAVEPOINT_API_KEY wins and no file is written', async () => {
    const dataDir = await tempDir();
    const resolved = await resolveApiKey({ dataDir, apiKey: 'from-env-0123456789' });
    expect(resolved).toEqual({ key: 'from-env-0123456789', origin: 'env' });
    await expect(stat(join(dataDir, 'api-key'))).rejects.toThrow(/ENOENT/);
  });

  // Tests run as root, which may write anywhere: a data dir below a regular file is what stays
  // unwritable for root too (ENOTDIR), the way a root-owned directory is for the `node` user.
  it('an unwritable data dir is refused with a clear message, and nothing is written', async () => {
    const parent = await tempDir();
    const blocker = join(parent, 'not-a-directory');
    await writeFile(blocker, 'a file where a directory should be');
    const dataDir = join(blocker, 'data');
    await expect(resolveApiKey({ dataDir, apiKey: undefined })).rejects.toThrow(
      /^The data directory .*not-a-directory\/data is not writable \(ENOTDIR\), so the API key cannot be generated into it; fix its permissions, choose another with --data-dir, or set SAVEPOINT_API_KEY$/,
    );
    expect(await readdir(parent)).toEqual(['not-a-directory']);
    expect(await readFile(blocker, 'utf8')).toBe('a file where a directory should be');
  });

  it('an empty key file is refused with a clear message', async () => {
    const dataDir = await tempDir();
    await writeFile(join(dataDir, 'api-key'), '\n');
    await expect(resolveApiKey({ dataDir, apiKey: undefined })).rejects.toThrow(
      /empty or malformed; delete it/,
    );
  });
});

describe('keyMatches', () => {
  it('compares whole keys of any length', () => {
    expect(keyMatches('abc', 'abc')).toBe(true);
    expect(keyMatches('abc', 'abd')).toBe(false);
    expect(keyMatches('ab', 'abc')).toBe(false);
    expect(keyMatches('', 'abc')).toBe(false);
    expect(keyMatches('x'.repeat(10_000), 'abc')).toBe(false);
  });
});
