/**
 * `GET /docs`: Swagger UI, served by @fastify/swagger-ui. Loading the UI plugin and its static file
 * server was a sizeable part of a server's start, for a page few requests ask for; so the server
 * declares the UI's paths itself and builds the UI, in a Fastify instance of its own, on the first
 * request to one of them. Every answer is the UI's own, status, headers and body, passed through
 * this server's hooks (auth, metrics) as before; what the UI does not find answers this server's
 * 404.
 */
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';

/** Where the UI lives. */
export const DOCS_PREFIX = '/docs';

/**
 * The paths @fastify/swagger-ui serves under {@link DOCS_PREFIX} with the options used here (the
 * page, its setup script, the description as JSON and YAML, and its static files). A test compares
 * them with the routes the UI registers, so an upgrade that adds one cannot go unnoticed.
 */
export const DOCS_PATHS = [
  DOCS_PREFIX,
  `${DOCS_PREFIX}/`,
  `${DOCS_PREFIX}/static/index.html`,
  `${DOCS_PREFIX}/static/swagger-initializer.js`,
  `${DOCS_PREFIX}/json`,
  `${DOCS_PREFIX}/yaml`,
  `${DOCS_PREFIX}/static/*`,
] as const;

/** Headers that belong to the UI instance's own (simulated) connection, not to the answer. */
const CONNECTION_HEADERS = new Set([
  'connection',
  'content-length',
  'date',
  'keep-alive',
  'transfer-encoding',
]);

/** The main server's `swagger()`: the description as an object, or as YAML with `{ yaml: true }`. */
export type DescribeApi = (options?: { readonly yaml?: boolean }) => ReturnType<FastifyInstance['swagger']>;

/**
 * The UI in an instance of its own, describing the API with `describe` (the main server's
 * `swagger()`); `routes` receives the `METHOD url` of each route the UI registers.
 */
export async function buildDocsApp(
  describe: DescribeApi,
  routes?: (route: string) => void,
): Promise<FastifyInstance> {
  const [{ default: swaggerUi }, { default: fastifyPlugin }] = await Promise.all([
    import('@fastify/swagger-ui'),
    import('fastify-plugin'),
  ]);
  const docs = Fastify({ logger: false });
  if (routes !== undefined) {
    docs.addHook('onRoute', (route) => {
      for (const method of [route.method].flat()) routes(`${method} ${route.url}`);
    });
  }
  // The UI reads the description through `swagger()`, and declares @fastify/swagger as a dependency.
  await docs.register(
    fastifyPlugin(
      async (instance) => {
        instance.decorate('swagger', describe);
      },
      { name: '@fastify/swagger' },
    ),
  );
  await docs.register(swaggerUi, { routePrefix: DOCS_PREFIX });
  await docs.ready();
  return docs;
}

/**
 * Declares the UI's paths on `app`; call inside a context whose routes are public reads.
 * `describe` gives the server's description when first needed.
 */
export function registerDocsPage(app: FastifyInstance, describe: () => Promise<DescribeApi>): void {
  let docs: Promise<FastifyInstance> | undefined;
  const forward = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    docs ??= describe()
      .then((description) => buildDocsApp(description))
      .catch((error: unknown) => {
        docs = undefined;
        throw error;
      });
    // Always GET: for HEAD, this server drops the body after the answer, as it did for the UI's own routes.
    const answer = await (await docs).inject({
      method: 'GET',
      url: request.url,
      headers: request.headers,
    });
    if (answer.statusCode === 404) {
      reply.callNotFound();
      return reply;
    }
    reply.code(answer.statusCode);
    for (const [name, value] of Object.entries(answer.headers)) {
      if (value !== undefined && !CONNECTION_HEADERS.has(name)) reply.header(name, value);
    }
    // An empty Buffer would get a content type of its own; a redirect or a 304 has none.
    return answer.rawPayload.length === 0 ? reply.send() : reply.send(answer.rawPayload);
  };
  for (const url of DOCS_PATHS) app.get(url, { schema: { hide: true } }, forward);
}
