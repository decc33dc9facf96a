/** Operations (docs/api.md#operations): health, metrics, the API description, sweeping, 5xx and shutdown. */
import { mkdtemp, rm } from 'node:fs/promises';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import type { FastifyPluginAsync } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import { SavepointError } from '../../src/errors.js';
import { savepointModules } from '../../src/modules.js';
import {
  TEST_AUTH as auth,
  expectProblem,
  json,
  routesOnly,
  startTestServer,
  type TestServer,
} from '../support/http.js';

describe('health, metrics and the API description', () => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer();
  });
  afterAll(() => server.close());

  it('GET /health reports the driver, version and storage', async () => {
    const response = await server.request({ method: 'GET', url: '/health', anonymous: true });
    expect(response.statusCode).toBe(200);
    expect(json(response)).toEqual({
      status: 'ok',
      driver: 'memory',
      version: expect.stringMatching(/^\d+\.\d+\.\d+/),
      uptimeSeconds: expect.any(Number),
      storage: { ok: true, pendingWrites: 0 },
    });
  });

  it('GET /metrics has the request histogram by route pattern, and commit counters', async () => {
    await server.request({ method: 'PUT', url: '/v1/docs/things/m1', payload: { value: 1 } });
    await server.request({
      method: 'PUT',
      url: '/v1/docs/things/m1',
      payload: { value: 2, expectedVersion: 9 },
    });
    await server.request({ method: 'GET', url: '/v1/docs/things/m1' });
    await server.request({ method: 'GET', url: '/nowhere/at/all' });
    const response = await server.request({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/plain/);
    const text = response.body;
    expect(text).toMatch(
      /savepoint_http_request_duration_seconds_bucket\{le="[^"]+",method="GET",route="\/v1\/docs\/:collection\/:key",status_class="2xx"\} 1/,
    );
    expect(text).toMatch(
      /savepoint_http_request_duration_seconds_count\{method="PUT",route="\/v1\/docs\/:collection\/:key",status_class="4xx"\} 1/,
    );
    expect(text).toContain('route="unmatched"');
    expect(text).not.toContain('/v1/docs/things/m1');
    expect(text).toMatch(/savepoint_commits_total\{outcome="ok"\} 1/);
    expect(text).toMatch(/savepoint_commits_total\{outcome="conflict"\} 1/);
    expect(text).toMatch(/savepoint_commit_conflicts_total 1/);
    expect(text).toMatch(/savepoint_commit_duration_seconds_count 2/);
    expect(text).toMatch(/savepoint_pending_commits 0/);
    expect(text).toContain('process_cpu_user_seconds_total');
  });

  it('GET /openapi.json describes the documents API, its errors and every error code', async () => {
    const response = await server.request({ method: 'GET', url: '/openapi.json', anonymous: true });
    const spec = json<{
      openapi: string;
      info: { description: string; version: string };
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
      components: { schemas: Record<string, unknown>; securitySchemes: Record<string, unknown> };
    }>(response);
    expect(spec.openapi).toMatch(/^3\./);
    expect(Object.keys(spec.paths)).toEqual(
      expect.arrayContaining([
        '/v1/docs/{collection}/{key}',
        '/v1/docs/{collection}',
        '/v1/commit',
        '/health',
        '/metrics',
        '/v1/admin/sweep',
      ]),
    );
    expect(Object.keys(spec.paths['/v1/docs/{collection}/{key}'] ?? {})).toEqual(
      expect.arrayContaining(['get', 'put', 'patch', 'delete']),
    );
    expect(spec.paths['/v1/docs/{collection}/{key}']?.put?.responses['412']).toMatchObject({
      content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
    });
    expect(spec.components.schemas.Problem).toBeDefined();
    expect(spec.components.securitySchemes.apiKey).toEqual({ type: 'http', scheme: 'bearer' });
    for (const code of Object.keys((await import('../../src/errors.js')).errorCatalog)) {
      expect(spec.info.description).toContain(`\`${code}\``);
    }
    expect(spec.paths['/openapi.json']).toBeUndefined();
  });

  it('GET /docs serves the rendered API page', async () => {
    const response = await server.request({ method: 'GET', url: '/docs', anonymous: true });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toMatch(/^text\/html/);
    expect(response.body).toContain('<html');
  });

  it('GET / is a small page naming the service and version, linking to /docs and /console', async () => {
    const response = await server.request({ method: 'GET', url: '/', anonymous: true });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    const version = (json(await server.request({ method: 'GET', url: '/health' })) as { version: string })
      .version;
    expect(response.body).toContain(`<title>Savepoint ${version}</title>`);
    expect(response.body).toContain('<a href="/docs">');
    expect(response.body).toContain('<a href="/console">');
  });

  it('POST /v1/admin/sweep removes expired records and answers the counts', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const local = await startTestServer({ savepoint: { url: 'memory:', clock: clock.now } });
    try {
      await local.savepoint.store.commit([
        { op: 'put', collection: 'a', key: '1', value: 1, ttlMs: 1000 },
        { op: 'put', collection: 'a', key: '2', value: 1, ttlMs: 1000 },
        { op: 'put', collection: 'b', key: '1', value: 1, ttlMs: 1000 },
        { op: 'put', collection: 'b', key: 'kept', value: 1 },
        { op: 'append', stream: 's', events: [{ type: 'x' }], expiresAt: clock.now() + 1000 },
      ]);
      clock.advance(5000);
      const response = await local.request({
        method: 'POST',
        url: '/v1/admin/sweep',
        payload: { batchSize: 1 },
      });
      expect(response.statusCode).toBe(200);
      expect(json(response)).toEqual({ documents: { a: 2, b: 1 }, streams: 1, total: 4 });
      expect(json(await local.request({ method: 'POST', url: '/v1/admin/sweep' }))).toEqual({
        documents: {},
        streams: 0,
        total: 0,
      });
      expect(await local.savepoint.store.get('b', 'kept')).toBeDefined();
    } finally {
      await local.close();
    }
  });
});

describe('failures', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  /** A server whose log lines land in `logs`, with routes that fail on purpose. */
  async function failingServer() {
    const dir = await mkdtemp(join(tmpdir(), 'savepoint-ops-'));
    dirs.push(dir);
    const logs: string[] = [];
    const stream = new Writable({
      write(chunk, _encoding, done) {
        logs.push(String(chunk));
        done();
      },
    });
    let slowStarted = (): void => {};
    /** Resolves once `/test/slow` is running: closing must begin while it is in flight, not before it arrives. */
    const slowEntered = new Promise<void>((resolve) => {
      slowStarted = resolve;
    });
    const failing: FastifyPluginAsync = async (app) => {
      app.get('/test/bug', async () => {
        throw new Error('secret internals at /srv/db.sqlite line 42');
      });
      app.get('/test/storage', async () => {
        throw new SavepointError('STORAGE_UNAVAILABLE', 'The database is not answering');
      });
      app.get('/test/slow', async () => {
        slowStarted();
        await new Promise((resolve) => setTimeout(resolve, 300));
        return { finished: true };
      });
    };
    // The tests close the app and the Savepoint themselves, in their own order; `dirs` goes afterwards.
    const { app, savepoint } = await startTestServer({
      dataDir: dir,
      logger: { level: 'info', stream },
      modules: [...savepointModules, routesOnly('failing', failing)],
    });
    return { app, savepoint, logs, slowEntered };
  }

  it('an unexpected error answers 500 INTERNAL without its message or stack, and is logged', async () => {
    const { app, savepoint, logs } = await failingServer();
    const response = await app.inject({ method: 'GET', url: '/test/bug', headers: auth });
    const problem = expectProblem(response, 500, 'INTERNAL');
    expect(response.body).not.toContain('secret internals');
    expect(response.body).not.toContain('at ');
    expect(problem.detail).toBe('An unexpected error occurred; it has been logged.');
    expect(logs.join('')).toContain('secret internals');
    await app.close();
    await savepoint.close();
  });

  it('STORAGE_UNAVAILABLE answers 503 with Retry-After', async () => {
    const { app, savepoint } = await failingServer();
    const response = await app.inject({ method: 'GET', url: '/test/storage', headers: auth });
    expectProblem(response, 503, 'STORAGE_UNAVAILABLE');
    expect(response.headers['retry-after']).toBe('5');
    await app.close();
    await savepoint.close();
  });

  it('GET /health answers 503 with Retry-After when the store cannot serve', async () => {
    const { app, savepoint } = await failingServer();
    await savepoint.close();
    const response = await app.inject({ method: 'GET', url: '/health' });
    const problem = expectProblem(response, 503, 'STORAGE_UNAVAILABLE');
    expect(response.headers['retry-after']).toBe('5');
    expect(problem).toMatchObject({
      driver: 'memory',
      storage: { ok: false, lastError: expect.stringContaining('closed') },
    });
    // Later writes fail the same way, and the health stays down.
    const write = await app.inject({
      method: 'PUT',
      url: '/v1/docs/x/y',
      payload: { value: 1 },
      headers: auth,
    });
    expectProblem(write, 503, 'STORAGE_UNAVAILABLE');
    await app.close();
  });

  it('closing finishes requests in flight (closing their connection) and refuses new connections', async () => {
    const { app, savepoint, slowEntered } = await failingServer();
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    const base = `http://127.0.0.1:${address.port}`;
    const slow = fetch(`${base}/test/slow`, { headers: auth });
    await slowEntered;
    const closed = app.close();
    const answer = await slow;
    expect(answer.status).toBe(200);
    expect(answer.headers.get('connection')).toBe('close');
    expect(await answer.json()).toEqual({ finished: true });
    await closed;
    await expect(fetch(`${base}/health`)).rejects.toThrow();
    await savepoint.close();
  });

  it('a request on a connection opened before shutdown began answers 503 STORAGE_UNAVAILABLE', async () => {
    const { app, savepoint } = await failingServer();
    let answer = '';
    let socket: Socket | undefined;
    // Runs after the server's own preClose hook (hooks run in order) and before it stops listening.
    app.addHook('preClose', async () => {
      const open = socket as Socket;
      const closed = new Promise((resolve) => open.on('close', resolve));
      open.on('data', (chunk) => {
        answer += String(chunk);
      });
      open.write('GET /health HTTP/1.1\r\nHost: x\r\n\r\n');
      await closed;
    });
    await app.listen({ host: '127.0.0.1', port: 0 });
    const address = app.server.address();
    if (address === null || typeof address === 'string') throw new Error('no address');
    socket = connect(address.port, '127.0.0.1');
    await new Promise((resolve) => socket?.once('connect', resolve));
    await app.close();
    expect(answer).toMatch(/^HTTP\/1\.1 503/);
    expect(answer.toLowerCase()).toContain('retry-after: 5');
    expect(answer).toContain('"code":"STORAGE_UNAVAILABLE"');
    await savepoint.close();
  });
});

describe('the background sweeper', () => {
  it('removes expired records every SAVEPOINT_SWEEP_INTERVAL', async () => {
    const server = await startTestServer({ env: { SAVEPOINT_SWEEP_INTERVAL: '20ms' } });
    try {
      await server.app.ready();
      await server.savepoint.store.commit([{ op: 'put', collection: 'temp', key: 'a', value: 1, ttlMs: 1 }]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      // Had the background sweeper not run, this sweep would find the record still there.
      expect(await server.savepoint.store.sweepExpired(10)).toEqual({
        documents: {},
        streams: 0,
        more: false,
      });
    } finally {
      await server.close();
    }
  });
});
