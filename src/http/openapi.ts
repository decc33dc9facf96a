/**
 * The API description: `GET /openapi.json` (OpenAPI 3.0, generated from the route schemas by
 * @fastify/swagger) and `GET /docs` (Swagger UI). Both are public reads. The description carries
 * the error code table, generated from the catalog so that it cannot drift.
 */
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import { type ErrorCode, errorCatalog, errorCodes } from '../errors.js';
import { SECURITY_SCHEME } from './auth.js';
import { describeIdempotency } from './idempotency.js';
import { Problem } from './schemas.js';
import { SAVEPOINT_VERSION } from './version.js';

/** Statuses a code may answer with besides its catalog status (see docs/errors.md). */
const OTHER_STATUSES: Partial<Record<ErrorCode, string>> = {
  VERSION_CONFLICT: ', or 412 for If-Match / If-None-Match',
  PAYLOAD_TOO_LARGE: ', or 431 when the request line and headers are over 16 KiB',
};

/** The error table in Markdown, from the catalog. */
export function errorTableMarkdown(): string {
  const rows = errorCodes.map(
    (code) =>
      `| \`${code}\` | ${errorCatalog[code].status}${OTHER_STATUSES[code] ?? ''} | ${errorCatalog[code].title} |`,
  );
  return ['| code | status | title |', '|---|---|---|', ...rows].join('\n');
}

const DESCRIPTION = `The durable memory of a game backend.

Authentication: send \`Authorization: Bearer <API key>\`. Public reads (\`GET /health\`, \`/v1/catalog…\`, \`/v1/leaderboards…\`, \`/openapi.json\`, \`/docs\`) need no key unless \`SAVEPOINT_PUBLIC_READS=false\`.

Versions: every record has an integer \`version\` (1 on creation, +1 per change). Single-record GETs send \`ETag: "<version>"\`. Writes honour \`If-Match: "<version>"\` and \`If-None-Match: *\` (412 when they fail) and a body \`expectedVersion\` (409).

Limits: ids are 1-200 characters of \`[A-Za-z0-9._:@-]\`; bodies are JSON, at most \`SAVEPOINT_MAX_BODY\` (default 1 MiB, else 413) and 64 levels deep (else 400). Unknown body fields are refused with 400.

Errors are \`application/problem+json\`: \`{ type, title, status, code, detail }\`, with \`errors: [{ in, path, message }]\` for field problems. Branch on \`code\`:

${errorTableMarkdown()}
`;

/** Registers the OpenAPI generator, `/openapi.json` and the `/docs` page. Register before any route. */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  app.addSchema(Problem);
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: { title: 'Savepoint', version: SAVEPOINT_VERSION, description: DESCRIPTION },
      components: { securitySchemes: { [SECURITY_SCHEME]: { type: 'http', scheme: 'bearer' } } },
      tags: [
        { name: 'documents', description: 'JSON documents for data types that have no module yet' },
        { name: 'operations', description: 'Health, metrics and maintenance' },
      ],
    },
    // Shared schemas keep their $id as their name under components.schemas (`Problem`, not `def-0`).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
    transformObject: (documentObject) => {
      if (!('openapiObject' in documentObject)) return documentObject.swaggerObject;
      const { openapiObject } = documentObject;
      describeIdempotency((openapiObject.paths ?? {}) as Parameters<typeof describeIdempotency>[0]);
      return openapiObject;
    },
  });
  app.get('/openapi.json', { config: { auth: 'public-read' }, schema: { hide: true } }, async () =>
    app.swagger(),
  );
  await app.register(async (docs) => {
    // Swagger UI registers its own routes (the page, its scripts and styles): all of them are public reads.
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, auth: 'public-read' };
    });
    await docs.register(swaggerUi, { routePrefix: '/docs' });
  });
}
