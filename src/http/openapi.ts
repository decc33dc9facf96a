/**
 * The API description: `GET /openapi.json` (OpenAPI 3.0, generated from the route schemas by
 * @fastify/swagger) and `GET /docs` (Swagger UI). Both are public reads. The description carries
 * the error code table, generated from the catalog so that it cannot drift. The UI itself is
 * loaded on its first request (docs-page.ts).
 */
import type { SwaggerOptions } from '@fastify/swagger';
import Fastify, { type FastifyInstance, type RouteOptions } from 'fastify';
import { type ErrorCode, errorCatalog, errorCodes } from '../errors.js';
import { SECURITY_SCHEME } from '../http-kit/auth.js';
import { OPTIONAL_BODY } from '../http-kit/schema-keywords.js';
import { Problem, problemResponses } from '../http-kit/schemas.js';
import { type DescribeApi, registerDocsPage } from './docs-page.js';
import { describeIdempotency, IDEMPOTENT_METHODS } from './idempotency.js';
import { createSchemaCompilers } from './schema-compilers.js';
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

interface RequestBodyObject {
  required?: boolean;
  content?: Record<string, { schema?: Record<string, unknown> }>;
}

/**
 * @fastify/swagger marks every declared body as required; a body schema carrying
 * {@link OPTIONAL_BODY} may be left out, so its request body is marked optional instead.
 */
function markOptionalBodies(document: { paths?: Record<string, Record<string, unknown>> }): void {
  for (const operations of Object.values(document.paths ?? {})) {
    for (const operation of Object.values(operations)) {
      const body = (operation as { requestBody?: RequestBodyObject }).requestBody;
      const schemas = Object.values(body?.content ?? {}).map((media) => media.schema);
      if (body === undefined || !schemas.some((schema) => schema?.[OPTIONAL_BODY] === true)) continue;
      body.required = false;
      for (const schema of schemas) delete schema?.[OPTIONAL_BODY];
    }
  }
}

/** Methods whose requests may carry a body, and so may be too large (413) or malformed (400). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/**
 * Adds to every described route the problem answers that come from the server's conventions
 * rather than from the route: 400 and 413 for anything that may carry a body, 401 unless the
 * route checks no key (public reads need one when `SAVEPOINT_PUBLIC_READS=false`), and 503 from
 * the storage or a server that is shutting down. Register before any route.
 */
function declareConventionAnswers(app: FastifyInstance): void {
  app.addHook('onRoute', (route) => {
    const response = route.schema?.response;
    if (route.schema === undefined || typeof response !== 'object' || response === null) return;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const statuses: number[] = [503];
    if (methods.some((method) => BODY_METHODS.has(method))) statuses.push(400, 413);
    if ((route.config?.auth ?? 'key') !== 'none') statuses.push(401);
    // Every write takes an Idempotency-Key (idempotency.ts): in flight is 409, reused is 422.
    if (methods.some((method) => IDEMPOTENT_METHODS.has(method))) statuses.push(409, 422);
    const missing = statuses.filter((status) => !(status in response));
    if (missing.length > 0) route.schema.response = { ...problemResponses(...missing), ...response };
  });
}

/** How @fastify/swagger describes the API. */
const SWAGGER_OPTIONS: SwaggerOptions = {
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
  transformObject: (documents) => {
    if (!('openapiObject' in documents)) return documents.swaggerObject;
    const document = documents.openapiObject;
    markOptionalBodies(document as Parameters<typeof markOptionalBodies>[0]);
    describeIdempotency((document.paths ?? {}) as Parameters<typeof describeIdempotency>[0]);
    return document;
  },
};

/** What @fastify/swagger reads of a route besides what Fastify types. */
type DescribedRoute = RouteOptions & { readonly links?: unknown };

/**
 * @fastify/swagger in a Fastify instance of its own, given the shared schemas and the routes of
 * the server it describes, in their order: it describes them exactly as if it had been registered
 * on that server. The instance never compiles a schema and never serves a request.
 */
async function describer(
  sharedSchemas: Record<string, unknown>,
  routes: readonly DescribedRoute[],
): Promise<FastifyInstance> {
  const { default: swagger } = await import('@fastify/swagger');
  // HEAD routes are replayed as the server registered them, not added a second time.
  const described = Fastify({
    exposeHeadRoutes: false,
    schemaController: createSchemaCompilers().schemaController,
  });
  for (const schema of Object.values(sharedSchemas)) described.addSchema(schema);
  await described.register(swagger, SWAGGER_OPTIONS);
  for (const route of routes) {
    described.route({
      method: route.method,
      url: route.url,
      ...(route.schema === undefined ? {} : { schema: route.schema }),
      ...(route.config === undefined ? {} : { config: route.config }),
      ...(route.constraints === undefined ? {} : { constraints: route.constraints }),
      ...(route.links === undefined ? {} : { links: route.links }),
      handler: async () => undefined,
    } as RouteOptions);
  }
  await described.ready();
  return described;
}

/**
 * Registers `/openapi.json` and the `/docs` page. Register before any route: every route
 * registered later is described. The description is generated by @fastify/swagger on the first
 * request that needs it (loading it, YAML support included, was a sizeable part of every start).
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  app.addSchema(Problem);
  declareConventionAnswers(app);
  // After declareConventionAnswers and the auth's security, as @fastify/swagger's own hook was.
  const routes: DescribedRoute[] = [];
  app.addHook('onRoute', (route) => {
    routes.push(route);
  });
  let description: Promise<FastifyInstance> | undefined;
  const describe = async (): Promise<DescribeApi> => {
    description ??= describer(app.getSchemas(), routes).catch((error: unknown) => {
      description = undefined;
      throw error;
    });
    const described = await description;
    return (options) => described.swagger(options as { yaml: boolean });
  };
  app.get('/openapi.json', { config: { auth: 'public-read' }, schema: { hide: true } }, async () =>
    (await describe())(),
  );
  await app.register(async (docs) => {
    // The Swagger UI's paths (the page, its scripts and styles): all of them are public reads.
    docs.addHook('onRoute', (route) => {
      route.config = { ...route.config, auth: 'public-read' };
    });
    registerDocsPage(docs, describe);
  });
}
