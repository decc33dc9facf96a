/** `GET /console`: the built console's files, public, with a strict Content-Security-Policy. */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, consoleRoutes } from '../../src/http/console.routes.js';
import { registerErrorHandling } from '../../src/http/error-handling.js';
import { json, startTestServer } from '../support/http.js';

describe('the console route', () => {
  let dir: string;
  let app: FastifyInstance;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'savepoint-console-route-'));
    await writeFile(join(dir, 'index.html'), '<!doctype html><title>console</title>');
    await writeFile(join(dir, 'console.js'), 'export {};');
    await writeFile(join(dir, 'notes.txt'), 'not served: unknown type');
    app = Fastify();
    registerErrorHandling(app);
    await app.register(consoleRoutes, { dir });
  });
  afterAll(async () => {
    await app.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('serves the page at /console and /console/ with a strict CSP', async () => {
    for (const url of ['/console', '/console/']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(200);
      expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(response.headers['content-security-policy']).toBe(CONSOLE_CSP);
      expect(response.headers['x-content-type-options']).toBe('nosniff');
      expect(response.body).toContain('<title>console</title>');
    }
    expect(CONSOLE_CSP).toContain("default-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe');
  });

  it('serves the built files by name and nothing else', async () => {
    const script = await app.inject({ method: 'GET', url: '/console/console.js' });
    expect(script.statusCode).toBe(200);
    expect(script.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(script.headers['content-security-policy']).toBe(CONSOLE_CSP);
    for (const url of ['/console/notes.txt', '/console/..%2Fpackage.json', '/console/missing.js']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode).toBe(404);
      expect(json(response)).toMatchObject({ code: 'NOT_FOUND' });
    }
  });

  it('says how to build the console when it is not built', async () => {
    const empty = Fastify();
    registerErrorHandling(empty);
    await empty.register(consoleRoutes, { dir: join(dir, 'absent') });
    const response = await empty.inject({ method: 'GET', url: '/console' });
    await empty.close();
    expect(response.statusCode).toBe(404);
    expect(json(response)).toMatchObject({
      code: 'NOT_FOUND',
      detail: expect.stringContaining('npm run build'),
    });
  });

  it('needs no key, even with public reads off: the files hold no data', async () => {
    const server = await startTestServer({ env: { SAVEPOINT_PUBLIC_READS: 'false' } });
    try {
      const response = await server.request({ method: 'GET', url: '/console', anonymous: true });
      // 404 only when `npm run build` has not run: never 401.
      expect([200, 404]).toContain(response.statusCode);
      const data = await server.request({ method: 'GET', url: '/health', anonymous: true });
      expect(data.statusCode).toBe(401);
    } finally {
      await server.close();
    }
  });
});
