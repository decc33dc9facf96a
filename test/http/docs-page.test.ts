/**
 * The Swagger UI at `/docs` is built on its first request (src/http/docs-page.ts); the server
 * declares the UI's paths itself, so they must be exactly the ones the UI registers.
 */
import { describe, expect, it } from 'vitest';
import { buildDocsApp, DOCS_PATHS } from '../../src/http/docs-page.js';
import { expectProblem, startTestServer } from '../support/http.js';

describe('the Swagger UI, loaded on first use', () => {
  it('declares exactly the paths the UI registers', async () => {
    const registered: string[] = [];
    const docs = await buildDocsApp(
      // The description is not asked for here.
      () => '',
      (route) => registered.push(route),
    );
    // Every route the UI registers is a GET (or its HEAD) of a declared path…
    for (const route of registered) {
      const [method, url] = route.split(' ');
      expect(['GET', 'HEAD']).toContain(method);
      expect(DOCS_PATHS).toContain(url);
    }
    // …and every declared path is one of the UI's.
    for (const url of DOCS_PATHS) expect(docs.hasRoute({ method: 'GET', url }), url).toBe(true);
    await docs.close();
  });

  it('serves the page, its files and the description, and 404s what the UI does not have', async () => {
    const server = await startTestServer();
    try {
      const page = await server.request({ method: 'GET', url: '/docs', anonymous: true });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(page.body).toContain('swagger-initializer.js');
      const style = await server.request({
        method: 'GET',
        url: '/docs/static/swagger-ui.css',
        anonymous: true,
      });
      expect(style.statusCode).toBe(200);
      expect(style.headers['content-type']).toBe('text/css; charset=utf-8');
      const fresh = await server.request({
        method: 'GET',
        url: '/docs/static/swagger-ui.css',
        anonymous: true,
        headers: { 'if-none-match': String(style.headers.etag) },
      });
      expect(fresh.statusCode).toBe(304);
      const head = await server.request({ method: 'HEAD', url: '/docs/json', anonymous: true });
      expect(head.statusCode).toBe(200);
      expect(head.body).toBe('');
      const description = await server.request({ method: 'GET', url: '/docs/json', anonymous: true });
      const published = await server.request({ method: 'GET', url: '/openapi.json', anonymous: true });
      expect(description.body).toBe(published.body);
      const moved = await server.request({ method: 'GET', url: '/docs/static/index.html', anonymous: true });
      expect(moved.statusCode).toBe(302);
      expect(moved.headers.location).toBe('/docs/');
      expect(moved.headers['content-type']).toBeUndefined();
      expectProblem(
        await server.request({ method: 'GET', url: '/docs/static/nope', anonymous: true }),
        404,
        'NOT_FOUND',
      );
      expectProblem(
        await server.request({ method: 'GET', url: '/docs/nope', anonymous: true }),
        404,
        'NOT_FOUND',
      );
    } finally {
      await server.close();
    }
  });
});
