/**
 * What a Savepoint module is: a descriptor that says how to build the module's API on a store, which
 * collections it owns, where its HTTP routes are, and what it does when the Savepoint sweeps, checks
 * its records, reports its health or closes.
 *
 * The composition root (`src/savepoint.ts`, with the list in `src/modules.ts`) creates each module
 * once per Savepoint, and the HTTP server (`src/http/`) only walks the descriptors, so neither the
 * server nor this contract imports a domain. A domain exports its descriptor from
 * `src/domains/<name>/<name>.module.ts`.
 */
import type { FastifyInstance } from 'fastify';
import type { Config } from './config.js';
import type { Store } from './engine/store.js';
import type { Metrics } from './http-kit/metrics.js';
import type { ReservedCollections } from './http-kit/reserved-collections.js';

/** What a module is built from. */
export interface ModuleContext<Options> {
  /** The engine: documents, streams and boards behind one atomic `commit`. */
  readonly store: Store;
  /** The module's settings (`openSavepoint({ games: { … } })`); `undefined` leaves every default. */
  readonly options: Options | undefined;
  /** The Savepoint's reserved collections (the documents API consults them). */
  readonly collections: ReservedCollections;
}

/** What a module's routes receive, besides the Fastify instance they register on. */
export interface ModuleRouteOptions<Api> {
  /** The module's instance: the same object as `savepoint.<name>`. */
  readonly api: Api;
  /** The Savepoint's engine, for HTTP preconditions (`If-Match`) that read a version first. */
  readonly store: Store;
  /** The server's settings, validated. Module settings are already in `api`: read them there. */
  readonly config: Config;
  /** The API key the server accepts (resolved, from the settings or the key file). */
  readonly apiKey: string;
  /** This server's metrics registry: `metrics.counter({ name: 'games_recorded_total', help })`. */
  readonly metrics: Metrics;
  /** The Savepoint's reserved collections. */
  readonly collections: ReservedCollections;
}

/** Collections a module owns: the documents API (`/v1/docs`, `/v1/commit`) may not write them. */
export interface OwnedCollections {
  /** Who owns them, named in the `403 FORBIDDEN` message (`the games module`). */
  readonly owner: string;
  /** Readable through the documents API, never writable there. */
  readonly readOnly?: readonly string[];
  /** Neither readable nor writable there (token hashes, failure counters). */
  readonly hidden?: readonly string[];
}

/**
 * A module descriptor. The hooks take the instance `create` built, so a descriptor holds no state:
 * two Savepoints never share one (their outboxes, feeds and caches stay apart).
 *
 * The hooks are declared as methods on purpose: a list of descriptors for different APIs is then
 * a `readonly AnySavepointModule[]` without casts.
 */
export interface SavepointModule<Name extends string, Api, Options = undefined> {
  /** The getter on `Savepoint` and the key of its settings in `SavepointOptions` (`games`). */
  readonly name: Name;
  readonly collections?: OwnedCollections;
  /** Builds the module's instance; the Savepoint calls it once, on first use. */
  create(context: ModuleContext<Options>): Api;
  /**
   * Registers the module's routes, as a Fastify plugin does. Each route declares its auth (`config:
   * { auth: 'key' | 'public-read' | 'none' }`), builds its schemas with TypeBox
   * (`src/http-kit/schemas.ts`) and throws catalog errors (`SavepointError`), which the server turns
   * into problem answers. Implementations import the route file here, on demand, so a program that
   * uses Savepoint as a library never loads route code or compiles its schemas.
   */
  routes?(app: FastifyInstance, options: ModuleRouteOptions<Api>): Promise<void>;
  /**
   * After a sweep has removed every expired record: removes what the engine's expiry cannot reach
   * by itself (a match's score board goes with its match). Answers how many records it removed.
   */
  sweep?(api: Api): Promise<number>;
  /** Problems in the relationships between its records, one readable line each (`/v1/admin/check`). */
  check?(api: Api): Promise<string[]>;
  /** Writes accepted but not stored yet (a games outbox during an outage); `/health` counts them. */
  queuedWrites?(api: Api): number;
  /** Stops the instance's background work; the Savepoint calls it before it closes the store. */
  close?(api: Api): Promise<void> | void;
}

/** Any module descriptor, whatever its API and settings. */
export type AnySavepointModule = SavepointModule<string, unknown, unknown>;

/** A route file's plugin for the module whose API is `Api` (what `SavepointModule.routes` imports and runs). */
export type ModuleRoutes<Api> = (app: FastifyInstance, options: ModuleRouteOptions<Api>) => Promise<void>;
