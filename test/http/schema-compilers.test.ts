/**
 * Route schemas are compiled on their route's first use (src/http/schema-compilers.ts), not when the
 * server starts. What a start-time compilation guaranteed is checked here instead: every route's
 * schemas compile, and when they compile changes neither the answers nor the API description.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsync } from 'fastify';
import { describe, expect, it } from 'vitest';
import { compileRouteSchemas } from '../../src/http/schema-compilers.js';
import { json, routesOnly, startTestServer } from '../support/http.js';

describe('route schemas compiled on first use', () => {
  it('every route schema of the full server compiles', async () => {
    const server = await startTestServer();
    try {
      await server.app.ready();
      // Request parts and response statuses of every route: hundreds, whatever the exact count.
      expect(compileRouteSchemas(server.app)).toBeGreaterThan(300);
      // Compiling again finds nothing new to do and still succeeds.
      expect(compileRouteSchemas(server.app)).toBeGreaterThan(300);
    } finally {
      await server.close();
    }
  });

  it('a response schema that cannot compile is found without calling its route', async () => {
    const broken: FastifyPluginAsync = async (app) => {
      app.get(
        '/broken',
        { config: { auth: 'none' }, schema: { response: { 200: Type.Ref('NoSuchSchema') } } },
        async () => ({}),
      );
    };
    const server = await startTestServer({ modules: [routesOnly('broken', broken)] });
    try {
      await server.app.ready();
      expect(() => compileRouteSchemas(server.app)).toThrow(/NoSuchSchema/);
    } finally {
      await server.close();
    }
  });

  it('describes the API the same whether or not the routes have compiled', async () => {
    const untouched = await startTestServer();
    const compiled = await startTestServer();
    try {
      await compiled.app.ready();
      compileRouteSchemas(compiled.app);
      const before = await untouched.request({ method: 'GET', url: '/openapi.json' });
      const after = await compiled.request({ method: 'GET', url: '/openapi.json' });
      expect(before.statusCode).toBe(200);
      expect(after.body).toBe(before.body);
      // The description holds every route's schemas.
      const spec = json<{ paths: Record<string, unknown> }>(before);
      expect(Object.keys(spec.paths).length).toBeGreaterThan(40);
    } finally {
      await untouched.close();
      await compiled.close();
    }
  });

  it('answers a route the same on its first call, on later calls and on another server', async () => {
    const first = await startTestServer();
    const second = await startTestServer();
    try {
      const bodies: string[] = [];
      for (const server of [first, first, second]) {
        const put = await server.request({
          method: 'PUT',
          url: '/v1/docs/things/a',
          payload: { value: { n: 1, nested: { ok: true } } },
        });
        expect(put.statusCode).toBe(201);
        const read = await server.request({ method: 'GET', url: '/v1/docs/things/a' });
        expect(read.statusCode).toBe(200);
        const { createdAt, updatedAt, ...rest } = json<{ createdAt?: unknown; updatedAt?: unknown }>(read);
        bodies.push(JSON.stringify({ ...rest, createdAt: typeof createdAt, updatedAt: typeof updatedAt }));
        // Strict validation from the first request on: an unknown body field is refused.
        const refused = await server.request({
          method: 'PUT',
          url: '/v1/docs/things/b',
          payload: { value: {}, extra: 1 },
        });
        expect(refused.statusCode).toBe(400);
        await server.request({ method: 'DELETE', url: '/v1/docs/things/a' });
      }
      expect(new Set(bodies).size).toBe(1);
    } finally {
      await first.close();
      await second.close();
    }
  });
});
