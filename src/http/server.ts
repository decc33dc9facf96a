/**
 * The HTTP service: one Fastify instance with Savepoint's conventions applied to every route, then
 * the operations routes and the routes of the Savepoint's modules. The server imports no module:
 * it walks the descriptors the Savepoint is composed of (`src/modules.ts`).
 */
import Fastify, { type FastifyInstance, type FastifyServerOptions, LogController } from 'fastify';
import type { Config } from '../config.js';
import { SavepointError } from '../errors.js';
import { registerAuth } from '../http-kit/auth.js';
import { instrumentHttp, instrumentStore, Metrics } from '../http-kit/metrics.js';
import type { AnySavepointModule, ModuleRouteOptions } from '../module.js';
import type { Savepoint } from '../savepoint.js';
import { adminRoutes } from './admin.routes.js';
import { resolveApiKey } from './api-key.js';
import { consoleRoutes } from './console.routes.js';
import { clientErrorHandler, frameworkErrorHandler, registerErrorHandling } from './error-handling.js';
import { homeRoutes } from './home.routes.js';
import { registerIdempotency } from './idempotency.js';
import { registerJsonBody } from './json-body.js';
import { registerOpenApi } from './openapi.js';
import { operationsRoutes } from './operations.routes.js';
import { createSchemaCompilers, trackSchemaCompilers } from './schema-compilers.js';
import type { ServerContext } from './server-context.js';
import { startSweeper } from './sweeper.js';

export interface BuildServerOptions {
  /** The open Savepoint the routes work on. The caller owns it: close it after the server. */
  readonly savepoint: Savepoint;
  /**
   * The server's settings. When `config.apiKey` is unset, the key is read from (or generated into)
   * `<dataDir>/api-key`. The modules' settings (token TTL, save slots, …) are the Savepoint's own:
   * open it with `moduleOptionsFrom(config)` (`src/modules.ts`) for the settings to apply to both.
   */
  readonly config: Config;
  /** Fastify's logger option: `false` (default) for none, `true`, or pino options such as `{ level, stream }`. */
  readonly logger?: FastifyServerOptions['logger'];
  /**
   * The modules whose routes to expose, in order; default every module of the Savepoint
   * (`savepoint.modules`). A module the Savepoint is not composed of is created on it on first use.
   */
  readonly modules?: readonly AnySavepointModule[];
}

/**
 * Longest path segment the router accepts. Far above the 200-character id limit on purpose: a long
 * id then reaches schema validation and answers `400 INVALID_INPUT` naming the field, rather than
 * an anonymous 404 from the router.
 */
const MAX_PARAM_LENGTH = 16_384;

/**
 * Builds the server, not yet listening: call `listen()` or `inject()`. Closing it (`app.close()`)
 * stops accepting connections, lets requests in flight finish, stops the background sweeper and
 * answers later requests on open connections `503 STORAGE_UNAVAILABLE`; it does not close the
 * Savepoint.
 */
export async function buildServer(options: BuildServerOptions): Promise<FastifyInstance> {
  const { savepoint, config } = options;
  const apiKey = (await resolveApiKey(config)).key;
  const compilers = createSchemaCompilers();
  const app = Fastify({
    logger: options.logger ?? false,
    // Request lines are noise at this volume; failures are logged by the error handler.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: config.maxBodyBytes,
    routerOptions: { maxParamLength: MAX_PARAM_LENGTH },
    // Closing is answered by our own hook below, in the problem+json shape.
    return503OnClosing: false,
    frameworkErrors: frameworkErrorHandler,
    clientErrorHandler,
    // Each route's checks and serializers are compiled on its first use (schema-compilers.ts).
    schemaController: compilers.schemaController,
  });
  trackSchemaCompilers(app, compilers);
  registerErrorHandling(app);
  registerJsonBody(app);

  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  // Hooks on every request take Fastify's callback form: an async hook costs a promise and a
  // microtask turn per request, measurable on a 10-20k req/s read path.
  app.addHook('onRequest', (_request, _reply, done) => {
    if (!closing) return done();
    done(new SavepointError('STORAGE_UNAVAILABLE', 'The server is shutting down; retry another instance'));
  });
  // An answer finished during shutdown closes its connection, so an idle keep-alive socket cannot hold the close up.
  app.addHook('onSend', (_request, reply, payload, done) => {
    if (closing) reply.header('connection', 'close');
    done(null, payload);
  });

  registerAuth(app, { apiKey, publicReads: config.publicReads });
  const metrics = new Metrics();
  instrumentHttp(app, metrics);
  const stopInstrumenting = instrumentStore(savepoint.store, metrics);
  registerIdempotency(app, {
    store: savepoint.store,
    ttlMs: config.idempotencyTtlMs,
    replays: metrics.counter({
      name: 'idempotent_replays_total',
      help: 'Answers replayed for a repeated Idempotency-Key',
    }),
  });
  await registerOpenApi(app);

  // Plugins see the resolved key, so one that checks the key itself needs no file access.
  const context: ServerContext = { savepoint, config: Object.freeze({ ...config, apiKey }), metrics };
  await app.register(homeRoutes);
  await app.register(operationsRoutes, context);
  await app.register(adminRoutes, context);
  await app.register(consoleRoutes, {});
  for (const module of options.modules ?? savepoint.modules) {
    await registerModuleRoutes(app, module, context, apiKey);
  }

  let stopSweeper: (() => Promise<void>) | undefined;
  app.addHook('onReady', async () => {
    if (config.sweepIntervalMs === 0) return;
    stopSweeper = startSweeper(savepoint, {
      intervalMs: config.sweepIntervalMs,
      onSweep: (totals) =>
        app.log.info({ removed: totals.documents, streams: totals.streams }, 'swept expired records'),
      onError: (error) => app.log.warn({ err: error }, 'the background sweep failed; it will run again'),
    });
  });
  app.addHook('onClose', async () => {
    await stopSweeper?.();
    stopInstrumenting();
  });
  return app;
}

/** Registers a module's routes (if it has any) as an encapsulated plugin, on the Savepoint's instance of it. */
async function registerModuleRoutes(
  app: FastifyInstance,
  module: AnySavepointModule,
  { savepoint, config, metrics }: ServerContext,
  apiKey: string,
): Promise<void> {
  if (module.routes === undefined) return;
  const options: ModuleRouteOptions<unknown> = {
    api: savepoint.use(module),
    store: savepoint.store,
    config,
    apiKey,
    metrics,
    collections: savepoint.reservedCollections,
  };
  await app.register(async (scope) => module.routes?.(scope, options));
}
