/**
 * Helpers for HTTP tests: a server on the memory driver with a known API key, reachable through
 * `app.inject()` (fast, no socket) or, after `listen()`, over a real socket.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance, FastifyPluginAsync, InjectOptions, LightMyRequestResponse } from 'fastify';
import { type Config, type ConfigEnv, loadConfig } from '../../src/config.js';
import { resolveApiKey } from '../../src/http/api-key.js';
import { type BuildServerOptions, buildServer } from '../../src/http/server.js';
import type { SavepointModule } from '../../src/module.js';
import { moduleOptionsFrom } from '../../src/modules.js';
import { openSavepoint, Savepoint, type SavepointOptions } from '../../src/savepoint.js';
import { describeViolations, type ResponseViolation, recordResponseViolations } from './response-contract.js';

export const TEST_API_KEY = 'test-key-0123456789abcdef';
/** `Authorization` header carrying {@link TEST_API_KEY}, for helpers outside a test's server. */
export const TEST_AUTH = { authorization: `Bearer ${TEST_API_KEY}` } as const;

export interface TestServer {
  readonly app: FastifyInstance;
  readonly savepoint: Savepoint;
  readonly config: Config;
  /** The API key the server accepts. */
  readonly apiKey: string;
  /** `Authorization` header carrying the key. */
  readonly auth: { readonly authorization: string };
  /** `app.inject` with the API key added unless `headers.authorization` is given (pass `null` to send none). */
  request(options: TestRequest): Promise<LightMyRequestResponse>;
  /**
   * Answers that did not match their route's declared response (see response-contract.ts). A
   * request through `request()` fails at once on a new one; `close()` fails if any were recorded
   * (answers over a real socket included).
   */
  readonly responseViolations: readonly ResponseViolation[];
  /** Listens on 127.0.0.1 with a free port; returns the base URL. */
  listen(): Promise<string>;
  close(): Promise<void>;
}

export interface TestRequest extends Omit<InjectOptions, 'headers'> {
  readonly headers?: Record<string, string | undefined>;
  /** Send no Authorization header. */
  readonly anonymous?: boolean;
}

export interface TestServerOptions {
  /** Environment settings on top of the test defaults (an API key, no background sweeper). */
  readonly env?: ConfigEnv;
  /**
   * Savepoint options; default `{ url: 'memory:' }`, with the module settings of `env` (as
   * `savepoint serve` opens it). Or an open Savepoint to serve, which the caller owns: `close()`
   * leaves it open.
   */
  readonly savepoint?: SavepointOptions | Savepoint;
  /** Use this data dir (for api-key tests) instead of a fresh temporary one. */
  readonly dataDir?: string;
  /** The modules whose routes to expose; default every module of the Savepoint. */
  readonly modules?: BuildServerOptions['modules'];
  /** Fastify's logger option; default none. */
  readonly logger?: BuildServerOptions['logger'];
  /**
   * Whether an answer that does not match its route's declared response fails the request (and
   * `close()`); default true. Turn it off only to inspect `responseViolations` yourself.
   */
  readonly checkResponses?: boolean;
}

/** Builds a server (by default on a fresh memory store); close it with `close()`. */
export async function startTestServer(options: TestServerOptions = {}): Promise<TestServer> {
  const ownDir = options.dataDir === undefined ? await mkdtemp(join(tmpdir(), 'savepoint-http-')) : undefined;
  const config = loadConfig({
    env: {
      SAVEPOINT_API_KEY: TEST_API_KEY,
      SAVEPOINT_SWEEP_INTERVAL: '0',
      SAVEPOINT_DATA_DIR: options.dataDir ?? ownDir,
      ...options.env,
    },
  });
  const shared = options.savepoint instanceof Savepoint;
  const savepoint =
    options.savepoint instanceof Savepoint
      ? options.savepoint
      : await openSavepoint({ ...moduleOptionsFrom(config), ...(options.savepoint ?? { url: 'memory:' }) });
  const app = await buildServer({ savepoint, config, modules: options.modules, logger: options.logger });
  const responseViolations = recordResponseViolations(app);
  const checkResponses = options.checkResponses ?? true;
  // Without SAVEPOINT_API_KEY (env `SAVEPOINT_API_KEY: undefined`), the key the server generated into the data dir.
  const apiKey = config.apiKey ?? (await resolveApiKey(config)).key;
  const auth = { authorization: `Bearer ${apiKey}` };
  return {
    app,
    savepoint,
    config,
    apiKey,
    auth,
    responseViolations,
    async request({ anonymous, headers, ...rest }) {
      const merged: Record<string, string> = anonymous === true ? {} : { ...auth };
      for (const [name, value] of Object.entries(headers ?? {})) {
        if (value === undefined) delete merged[name];
        else merged[name] = value;
      }
      const before = responseViolations.length;
      const response = await app.inject({ ...rest, headers: merged });
      if (checkResponses && responseViolations.length > before) {
        throw new Error(
          `The answer does not match its declared response:\n${describeViolations(responseViolations.slice(before))}`,
        );
      }
      return response;
    },
    async listen() {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      if (address === null || typeof address === 'string') throw new Error('no TCP address');
      return `http://127.0.0.1:${address.port}`;
    },
    async close() {
      await app.close();
      if (!shared) await savepoint.close();
      if (ownDir !== undefined) await rm(ownDir, { recursive: true, force: true });
      if (checkResponses && responseViolations.length > 0) {
        throw new Error(
          `Answers did not match their declared responses:\n${describeViolations(responseViolations)}`,
        );
      }
    },
  };
}

/**
 * A module with routes only, for tests that add routes of their own to a server (a probe, a route
 * that fails on purpose); its API is nothing.
 */
export function routesOnly(name: string, plugin: FastifyPluginAsync): SavepointModule<string, undefined> {
  return { name, create: () => undefined, routes: (app) => plugin(app, {}) };
}

/** The parsed JSON body of an answer. */
export function json<T = Record<string, unknown>>(response: LightMyRequestResponse): T {
  return JSON.parse(response.body) as T;
}

/** Asserts that an answer is a problem document with this status and code; returns the document. */
export function expectProblem(
  response: LightMyRequestResponse,
  status: number,
  code: string,
): Record<string, unknown> & { detail: string } {
  const type = String(response.headers['content-type']);
  const body = JSON.parse(response.body) as Record<string, unknown> & { detail: string };
  const summary = `${response.statusCode} ${response.body}`;
  if (response.statusCode !== status || body.code !== code || !type.startsWith('application/problem+json')) {
    throw new Error(`expected ${status} ${code} problem+json, got ${summary} (${type})`);
  }
  for (const field of ['type', 'title', 'status', 'code', 'detail']) {
    if (!(field in body)) throw new Error(`problem document lacks ${field}: ${summary}`);
  }
  if (body.status !== status) throw new Error(`problem status ${String(body.status)} differs from ${status}`);
  return body;
}
