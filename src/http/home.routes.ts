/**
 * `GET /`: a small page for whoever opens the service's address in a browser, naming the service
 * and its version and pointing to the API documentation and the operator console. It shows no
 * data, so it needs no key even when public reads are off.
 */
import type { FastifyInstance } from 'fastify';
import { SAVEPOINT_VERSION } from './version.js';

const PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Savepoint ${SAVEPOINT_VERSION}</title>
<style>body{font-family:system-ui,sans-serif;max-width:36rem;margin:3rem auto;padding:0 1rem;line-height:1.5}</style>
</head>
<body>
<h1>Savepoint <small>${SAVEPOINT_VERSION}</small></h1>
<p>The durable memory of a game backend. This service answers over HTTP; calls need
<code>Authorization: Bearer &lt;API key&gt;</code>.</p>
<ul>
<li><a href="/docs">API documentation</a> (<a href="/openapi.json">OpenAPI</a>)</li>
<li><a href="/console">Operator console</a></li>
<li><a href="/health">Health</a></li>
</ul>
</body>
</html>
`;

export async function homeRoutes(app: FastifyInstance): Promise<void> {
  app.get('/', { config: { auth: 'none' }, schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').send(PAGE),
  );
}
