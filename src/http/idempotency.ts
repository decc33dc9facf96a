/**
 * `Idempotency-Key` on every write (see docs/http-idempotency.md): a retried request gets the
 * first one's answer and changes nothing.
 *
 * How a keyed request runs:
 * 1. The key's request record (`_idempotency`, keyed by a digest of the scope) is read. A finished
 *    answer with the same fingerprint (method, URL, body) is replayed with `Idempotent-Replayed:
 *    true`; another fingerprint is `422 IDEMPOTENCY_KEY_REUSED`; a running one is
 *    `409 IDEMPOTENCY_IN_FLIGHT`.
 * 2. Otherwise the request claims the key: a record `running`, created with `mustNotExist` (so of
 *    concurrent duplicates exactly one runs) that expires after {@link CLAIM_MS}, so a claim left by
 *    a dead process frees itself.
 * 3. The handler runs in a key scope: every commit it makes is keyed `<record>#<ordinal>`, and the
 *    engine stores each commit's results in the same transaction as its effect.
 * 4. A 2xx answer (status, body, ETag, Location, content type) replaces the claim, kept for
 *    `SAVEPOINT_IDEMPOTENCY_TTL`. A 4xx/5xx answer deletes the claim: a retry runs again.
 *
 * Why that is exactly once although the answer is written after the effect: if the process dies
 * between the effect's commit and step 4, the retry (once the claim expired) runs the handler
 * again, and its keyed commits find their records and return the stored results without applying
 * anything, so the answer is rebuilt from the very same results. Calls whose answer cannot be
 * rebuilt from commit results (a reconnect creates a random token) store their answer in the
 * effect's commit itself (see `Games.reconnect`).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Counter } from 'prom-client';
import {
  fingerprintOf,
  IDEMPOTENCY_COLLECTION,
  IDEMPOTENCY_KEY_PATTERN,
  KeyScope,
  outsideKeyScope,
  recordKeyOf,
  runInKeyScope,
} from '../engine/idempotency.js';
import type { Store } from '../engine/store.js';
import type { JsonValue } from '../engine/types.js';
import { invalidInput, isSavepointError, SavepointError } from '../errors.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The parts a route's `Idempotency-Key` is scoped to, besides the key itself. Default: one
     * scope for the whole API key. A reconnect scopes its key to the (game, player) of its body.
     */
    idempotencyScope?: (request: FastifyRequest) => readonly string[];
  }
  interface FastifyRequest {
    /** Set while a keyed request runs (between its claim and its answer). */
    idempotency?: RunningKey;
  }
}

interface RunningKey {
  readonly recordKey: string;
  readonly fingerprint: string;
  readonly claimVersion: number;
  readonly scope: KeyScope;
}

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const REPLAYED_HEADER = 'idempotent-replayed';

/** How long a claim holds a key while its request runs; a claim left by a dead process frees itself then. */
export const CLAIM_MS = 10_000;
/** The methods whose requests take an `Idempotency-Key`. */
export const IDEMPOTENT_METHODS: ReadonlySet<string> = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);
/** Answer headers replayed with the body. */
const KEPT_HEADERS = ['content-type', 'etag', 'location', 'cache-control'] as const;

/** A request record: a claim while the request runs, then its answer. */
type RequestRecord =
  | { readonly kind: 'request'; readonly state: 'running'; readonly fingerprint: string }
  | {
      readonly kind: 'request';
      readonly state: 'done';
      readonly fingerprint: string;
      readonly status: number;
      readonly headers: Readonly<Record<string, string>>;
      readonly body: string | null;
    };

export interface IdempotencyOptions {
  readonly store: Store;
  /** How long a finished answer is kept (`SAVEPOINT_IDEMPOTENCY_TTL`). */
  readonly ttlMs: number;
  /** Counts replayed answers. */
  readonly replays: Counter;
  /** Default {@link CLAIM_MS}. */
  readonly claimMs?: number;
}

const inFlight = (): SavepointError =>
  new SavepointError(
    'IDEMPOTENCY_IN_FLIGHT',
    'A request with this Idempotency-Key is still running; retry shortly to get its answer',
  );

const reused = (): SavepointError =>
  new SavepointError(
    'IDEMPOTENCY_KEY_REUSED',
    'This Idempotency-Key was already used with another method, path or body; use a new key for a new request',
  );

function parseRecord(value: JsonValue): RequestRecord | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value.kind !== 'request')
    return undefined;
  return value as unknown as RequestRecord;
}

/** Registers the hooks on every route registered after it. Register after auth, before the routes. */
export function registerIdempotency(app: FastifyInstance, options: IdempotencyOptions): void {
  const { store, ttlMs, replays } = options;
  const claimMs = options.claimMs ?? CLAIM_MS;

  const readRecord = async (recordKey: string) => {
    const document = await store.get(IDEMPOTENCY_COLLECTION, recordKey);
    if (document === undefined) return undefined;
    const record = parseRecord(document.value);
    if (record === undefined)
      throw new SavepointError('CORRUPT_DATA', `The idempotency record ${recordKey} cannot be read`);
    return { record, version: document.version };
  };

  /** Answers from a record that exists; true when the reply was sent. */
  const answerFrom = (record: RequestRecord, fingerprint: string, reply: FastifyReply): void => {
    if (record.fingerprint !== fingerprint) throw reused();
    if (record.state === 'running') {
      reply.header('retry-after', String(Math.ceil(claimMs / 1000)));
      throw inFlight();
    }
    replays.inc();
    reply.code(record.status).headers({ ...record.headers, [REPLAYED_HEADER]: 'true' });
    void reply.send(record.body ?? undefined);
  };

  /** Claims the key, or answers the request from its record. Resolves to the running key, or undefined once answered. */
  const begin = async (request: FastifyRequest, reply: FastifyReply): Promise<RunningKey | undefined> => {
    const key = request.headers[IDEMPOTENCY_HEADER];
    if (typeof key !== 'string' || !IDEMPOTENCY_KEY_PATTERN.test(key)) {
      throw invalidInput('Idempotency-Key must be 1 to 200 characters of A-Z a-z 0-9 . _ : @ -', {
        header: 'Idempotency-Key',
      });
    }
    const scope = request.routeOptions.config.idempotencyScope?.(request) ?? ['request'];
    const recordKey = recordKeyOf(...scope, key);
    const fingerprint = fingerprintOf(request.method, request.url, request.body ?? null);
    const found = await readRecord(recordKey);
    if (found !== undefined) {
      answerFrom(found.record, fingerprint, reply);
      return undefined;
    }
    const claim: JsonValue = { kind: 'request', state: 'running', fingerprint };
    try {
      const result = await store.commit([
        {
          op: 'put',
          collection: IDEMPOTENCY_COLLECTION,
          key: recordKey,
          value: claim,
          ttlMs: claimMs,
          mustNotExist: true,
        },
      ]);
      const written = result.results[0];
      const claimVersion = written?.op === 'put' ? written.document.version : 1;
      return { recordKey, fingerprint, claimVersion, scope: new KeyScope(recordKey, fingerprint) };
    } catch (error) {
      if (!isSavepointError(error, 'VERSION_CONFLICT')) throw error;
      // A duplicate claimed it first.
      const raced = await readRecord(recordKey);
      if (raced === undefined) throw inFlight();
      answerFrom(raced.record, fingerprint, reply);
      return undefined;
    }
  };

  app.addHook('preHandler', (request, reply, done) => {
    if (!IDEMPOTENT_METHODS.has(request.method) || request.headers[IDEMPOTENCY_HEADER] === undefined)
      return done();
    begin(request, reply).then(
      (running) => {
        if (running === undefined) return; // answered from the record
        request.idempotency = running;
        // The handler runs inside `done()`, so it and everything it awaits see the scope.
        runInKeyScope(running.scope, () => done());
      },
      (error: unknown) => done(error as Error),
    );
  });

  app.addHook('onSend', async (request, reply, payload) => {
    const running = request.idempotency;
    if (running === undefined) return payload;
    request.idempotency = undefined;
    running.scope.close();
    const body =
      payload === null || payload === undefined
        ? null
        : typeof payload === 'string'
          ? payload
          : Buffer.isBuffer(payload)
            ? payload.toString('utf8')
            : undefined;
    const status = reply.statusCode;
    // Outside the request's key scope: these are the key's own records, not the handler's effects.
    await outsideKeyScope(async () => {
      try {
        if (status >= 200 && status < 300 && body !== undefined) {
          const headers: Record<string, string> = {};
          for (const name of KEPT_HEADERS) {
            const value = reply.getHeader(name);
            if (value !== undefined) headers[name] = String(value);
          }
          const answer: JsonValue = {
            kind: 'request',
            state: 'done',
            fingerprint: running.fingerprint,
            status,
            headers,
            body,
          };
          await store.commit([
            {
              op: 'put',
              collection: IDEMPOTENCY_COLLECTION,
              key: running.recordKey,
              value: answer,
              ttlMs,
              expectedVersion: running.claimVersion,
            },
          ]);
        } else {
          // A failure stores nothing, so a retry runs again (a stream answer cannot be replayed either).
          await store.commit([
            {
              op: 'delete',
              collection: IDEMPOTENCY_COLLECTION,
              key: running.recordKey,
              expectedVersion: running.claimVersion,
            },
          ]);
        }
      } catch (error) {
        // The effect and its results are stored already: a retry after the claim expires rebuilds
        // this answer from them, so the answer still goes out.
        request.log.warn({ err: error }, 'could not store the answer of an Idempotency-Key');
      }
    });
    return payload;
  });
}

/** The OpenAPI parts of a write operation that accepts `Idempotency-Key`. */
interface OpenApiOperation {
  parameters?: Array<Record<string, unknown>>;
  responses?: Record<string, { description?: string; headers?: Record<string, unknown>; content?: unknown }>;
}

const KEY_PARAMETER = {
  name: 'Idempotency-Key',
  in: 'header',
  required: false,
  description:
    'Makes the write exactly-once: a repeat with the same key, method, path and body gets the stored answer ' +
    '(with Idempotent-Replayed: true) and changes nothing, for SAVEPOINT_IDEMPOTENCY_TTL (default 24h). ' +
    'The same key with another request: 422 IDEMPOTENCY_KEY_REUSED; while the first still runs: ' +
    '409 IDEMPOTENCY_IN_FLIGHT. A failed request stores nothing.',
  schema: { type: 'string', minLength: 1, maxLength: 200, pattern: IDEMPOTENCY_KEY_PATTERN.source },
} as const;

const REPLAYED_RESPONSE_HEADER = {
  description: '`true` when this is the stored answer of an earlier request with the same Idempotency-Key',
  schema: { type: 'string', enum: ['true'] },
} as const;

const IDEMPOTENCY_ANSWERS = [
  ['409', 'IDEMPOTENCY_IN_FLIGHT: a request with this Idempotency-Key is still running'],
  ['422', 'IDEMPOTENCY_KEY_REUSED: the Idempotency-Key was used for another request'],
] as const;

const problemOf = (description: string) => ({
  description,
  content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
});

/**
 * Adds `Idempotency-Key` to every write operation of the generated description (the hooks above
 * apply to every write route, so the description says so in one place rather than in each route's
 * schema), with the `Idempotent-Replayed` answer header and the 409 and 422 answers it can cause.
 */
export function describeIdempotency(paths: Record<string, Record<string, OpenApiOperation>>): void {
  for (const operations of Object.values(paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (!IDEMPOTENT_METHODS.has(method.toUpperCase())) continue;
      operation.parameters = [...(operation.parameters ?? []), { ...KEY_PARAMETER }];
      operation.responses ??= {};
      const responses = operation.responses;
      for (const [status, response] of Object.entries(responses)) {
        if (status.startsWith('2'))
          response.headers = { ...response.headers, 'Idempotent-Replayed': REPLAYED_RESPONSE_HEADER };
      }
      // The routes declare 409 and 422 (see openapi.ts); say what they mean for a keyed request.
      for (const [status, meaning] of IDEMPOTENCY_ANSWERS) {
        const answer = responses[status];
        responses[status] =
          answer === undefined
            ? problemOf(meaning)
            : { ...answer, description: `${answer.description}; or ${meaning}` };
      }
    }
  }
}
