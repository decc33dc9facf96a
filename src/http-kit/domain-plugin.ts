/**
 * The seam between the HTTP server and the domains. A domain is a Fastify plugin in
 * `src/domains/<name>/<name>.routes.ts` receiving {@link DomainPluginOptions}; it is listed once in
 * `domain-plugins.ts`. It declares each route's auth (`config: { auth: 'key' | 'public-read' |
 * 'none' }`), builds its schemas with TypeBox (see `schemas.ts`), throws catalog errors
 * (`SavepointError`), which the server turns into problem answers, and calls
 * `reserveCollections` for the collections it owns.
 */
import type { FastifyPluginAsync } from 'fastify';
import type { Config } from '../config.js';
import type { Savepoint } from '../savepoint.js';
import type { Metrics } from './metrics.js';

export interface DomainPluginOptions {
  /** The open Savepoint: `savepoint.store` is the engine. */
  readonly savepoint: Savepoint;
  /** Every setting, validated. */
  readonly config: Config;
  /** This server's metrics registry: `metrics.counter({ name: 'games_recorded_total', help })`. */
  readonly metrics: Metrics;
}

/** A domain's routes, as a Fastify plugin. */
export type DomainPlugin = FastifyPluginAsync<DomainPluginOptions>;
