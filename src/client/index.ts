/**
 * A small typed client for Savepoint's HTTP API (`import { createClient } from 'savepoint/client'`).
 * It uses the platform `fetch` and has no runtime dependencies (its types are the static types of
 * the server's schemas). Every error answer is thrown as a {@link SavepointHttpError} carrying the
 * problem document's `code`, `status` and `detail`.
 *
 * @example
 * const savepoint = createClient({ baseUrl: 'http://127.0.0.1:8787', apiKey: process.env.SAVEPOINT_API_KEY });
 * const saved = await savepoint.putDocument('profiles', 'p1', { name: 'Ada' });
 * await savepoint.patchDocument('profiles', 'p1', { $inc: { logins: 1 } }, { ifMatch: saved.version });
 */
import type { Static } from '@sinclair/typebox';
import type {
  CommitAnswer as CommitAnswerSchema,
  CommitOp as CommitOpSchema,
  DocumentPage as DocumentPageSchema,
  DocumentRecord as DocumentRecordSchema,
  ListQuery,
  PatchBody,
  PatchOperators as PatchOperatorsSchema,
  PutBody,
} from '../domains/documents/documents.schema.js';
import type {
  AppendBody,
  AppendResponse,
  ConnectionTokenResponse,
  EventsQuery,
  EventsResponse,
  GameEventSchema,
  GameRecordSchema,
  PersistBody,
  PersistResponse,
  ReconnectBody,
  ReconnectResponse,
} from '../domains/games/games.schema.js';
import type { ErrorCode } from '../errors.js';
import type { Health as HealthSchema } from '../http-kit/operations.schema.js';
import type { Problem as ProblemSchema } from '../http-kit/schemas.js';
import type { Json, JsonObject, Narrowed, Wire } from './wire.js';

// Every wire type below is the static type of the schema the server validates (or answers) with,
// so the client cannot drift from the server: see docs/api.md for what each field means.
export type { Json, JsonObject } from './wire.js';

/** A document as the API returns it; times are ISO-8601 UTC, `expiresAt` is `null` for never. */
export type DocumentRecord<T = Json> = Narrowed<Static<typeof DocumentRecordSchema>, { readonly value: T }>;

/** One page of a collection; pass `nextCursor` as `cursor` for the next one (`null` at the end). */
export type DocumentPage<T = Json> = Narrowed<
  Static<typeof DocumentPageSchema>,
  { readonly items: readonly DocumentRecord<T>[] }
>;

/** Patch operators with dot paths, applied in this order: `$set`, `$unset`, `$inc`, `$max`, `$min`, `$push`. */
export type PatchOperators = Wire<Static<typeof PatchOperatorsSchema>>;

/** The body's conditions for a single-document write. */
type BodyConditions = Pick<Wire<PutBody>, 'expectedVersion'>;

/** Conditions for a single-document write. */
export interface WriteOptions extends BodyConditions {
  /** Sent as `If-Match: "<version>"`: write only at this version, else `412 VERSION_CONFLICT`. */
  readonly ifMatch?: number | '*';
  /** Sent as `If-None-Match: *`: create only, else `412 VERSION_CONFLICT`. */
  readonly createOnly?: boolean;
  /**
   * Sent as `Idempotency-Key`: a retry with the same key and arguments gets the first answer and
   * applies nothing (docs/http-idempotency.md).
   */
  readonly idempotencyKey?: string;
}

/** `ttl`: expire this long after the write (`30s`, `7d`). */
export interface PutOptions extends WriteOptions, Pick<Wire<PutBody>, 'ttl'> {}

/** `upsert`: create the document from `{}` when missing; `ttl`: `null` clears the expiry, absent keeps it. */
export interface PatchOptions extends WriteOptions, Pick<Wire<PatchBody>, 'upsert' | 'ttl'> {}

/** `limit` is 1 to 1000 (default 100); `cursor` is the previous page's `nextCursor`. */
export interface ListOptions extends Pick<Wire<ListQuery>, 'prefix' | 'limit' | 'cursor'> {}

/** One op of {@link SavepointClient.commit}. */
export type CommitOp = Wire<Static<typeof CommitOpSchema>>;

export type CommitOpResult = CommitAnswer['results'][number];

export type CommitAnswer = Wire<Static<typeof CommitAnswerSchema>>;

/** `GET /health`. */
export type Health = Wire<Static<typeof HealthSchema>>;

/** `POST /api/game/{gameId}/persist`. `expectedVersion: 0` means create only. */
export type PersistGameInput<S extends JsonObject = JsonObject> = Narrowed<
  PersistBody,
  { readonly state: S }
>;

export type GameStatus = GameRecord['status'];

/** `version` is the game version: 1 on creation, +1 on every persist or append. */
export type PersistGameAnswer = Wire<Static<typeof PersistResponse>>;

/** One event to append; `data` defaults to `null`. */
export type GameEventInput = AppendGameEventsInput['events'][number];

/** `POST /api/game/{gameId}/events`: 1 to 10,000 events, written with the optional snapshot in one commit. */
export type AppendGameEventsInput<S extends JsonObject = JsonObject> = Narrowed<
  AppendBody,
  { readonly state?: S }
>;

export type AppendGameEventsAnswer = Wire<Static<typeof AppendResponse>>;

/** One event of a game's log: `seq` starts at 1 with no gaps; `at` is when it was written. */
export type GameEvent<D = Json> = Narrowed<Static<typeof GameEventSchema>, { readonly data: D }>;

/** `after`: events with `seq > after` (default 0); `limit`: 1 to 1000 (default 100). */
export type ReadGameEventsOptions = Wire<EventsQuery>;

/** Events in ascending `seq`. */
export type GameEvents<D = Json> = Narrowed<
  Static<typeof EventsResponse>,
  { readonly events: readonly GameEvent<D>[] }
>;

/** `GET /api/game/{gameId}/restore`; `lastSeq` is the last event seq the snapshot reflects. */
export type GameRecord<S extends JsonObject = JsonObject> = Narrowed<
  Static<typeof GameRecordSchema>,
  { readonly state: S }
>;

/** `GET /api/game/{gameId}/connection-token`: hand `token` to the player; only its hash is stored. */
export type ConnectionToken = Wire<Static<typeof ConnectionTokenResponse>>;

/** `POST /api/game/{gameId}/reconnect`: `missedEvents` holds the events after `lastEventSeq` (all when absent). */
export type ReconnectInput = Wire<ReconnectBody>;

/** Keep `reconnectToken`: it is the rotated token, and the one just used no longer works. */
export type ReconnectAnswer<S extends JsonObject = JsonObject> = Narrowed<
  Static<typeof ReconnectResponse>,
  { readonly gameState: GameRecord<S> }
>;

/** An RFC 9457 problem document, as Savepoint sends with every error; it may carry extension fields. */
export type Problem = Wire<Static<typeof ProblemSchema>> & { readonly [extension: string]: unknown };

/** An error answer. Branch on `code` (stable), not on the message. */
export class SavepointHttpError extends Error {
  override readonly name = 'SavepointHttpError';
  /** The catalog code, or `INTERNAL` when the answer was not a problem document (a proxy's error page). */
  readonly code: ErrorCode;
  readonly status: number;
  readonly detail: string;
  /** The whole problem document. */
  readonly problem: Problem;
  /** Seconds to wait before retrying, from `Retry-After`, when sent. */
  readonly retryAfterSeconds: number | undefined;

  constructor(problem: Problem, retryAfterSeconds?: number) {
    super(`${problem.status} ${problem.code}: ${problem.detail}`);
    this.code = problem.code;
    this.status = problem.status;
    this.detail = problem.detail;
    this.problem = problem;
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

export interface ClientOptions {
  /** `http://127.0.0.1:8787`; a path prefix is kept (`https://example.com/savepoint`). */
  readonly baseUrl: string;
  /** Sent as `Authorization: Bearer <key>`; omit for public reads only. */
  readonly apiKey?: string;
  /** Default `globalThis.fetch`. */
  readonly fetch?: typeof fetch;
  /** Abort a call after this many milliseconds; default 30 000. */
  readonly timeoutMs?: number;
}

export interface RequestOptions {
  readonly body?: unknown;
  readonly query?: Readonly<Record<string, string | number | boolean | undefined>>;
  readonly headers?: Readonly<Record<string, string>>;
}

/** An answer: status, headers and the parsed JSON body (`undefined` for an empty one). */
export interface ClientResponse<T> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface SavepointClient {
  /** Any call: JSON in, JSON out; error answers throw {@link SavepointHttpError}. */
  request<T = unknown>(method: string, path: string, options?: RequestOptions): Promise<ClientResponse<T>>;
  /** `GET /health`; a `503` throws with code `STORAGE_UNAVAILABLE`. */
  health(): Promise<Health>;
  /** `GET /v1/docs/{collection}/{key}`, or `undefined` when there is none. */
  getDocument<T = Json>(collection: string, key: string): Promise<DocumentRecord<T> | undefined>;
  /** `GET /v1/docs/{collection}?keys=…`: those that exist, in the order asked. */
  getDocuments<T = Json>(collection: string, keys: readonly string[]): Promise<DocumentRecord<T>[]>;
  /** `GET /v1/docs/{collection}`: one page, ascending by key. */
  listDocuments<T = Json>(collection: string, options?: ListOptions): Promise<DocumentPage<T>>;
  /** `PUT /v1/docs/{collection}/{key}`: create or replace. */
  putDocument<T extends Json = Json>(
    collection: string,
    key: string,
    value: T,
    options?: PutOptions,
  ): Promise<DocumentRecord<T>>;
  /** `PATCH /v1/docs/{collection}/{key}`: atomic operators. */
  patchDocument<T = Json>(
    collection: string,
    key: string,
    patch: PatchOperators,
    options?: PatchOptions,
  ): Promise<DocumentRecord<T>>;
  /** `DELETE /v1/docs/{collection}/{key}`: true if deleted, false if there was none. */
  deleteDocument(
    collection: string,
    key: string,
    options?: Pick<WriteOptions, 'ifMatch' | 'expectedVersion' | 'idempotencyKey'>,
  ): Promise<boolean>;
  /** `POST /v1/commit`: all ops or none. */
  commit(ops: readonly CommitOp[]): Promise<CommitAnswer>;
  /**
   * `POST /api/game/{gameId}/persist`: creates the game or replaces its snapshot. `ifMatch` and
   * `createOnly` are sent as headers (`412` when they fail); `expectedVersion` in the input answers `409`.
   */
  persistGame<S extends JsonObject>(
    gameId: string,
    input: PersistGameInput<S>,
    options?: Pick<WriteOptions, 'ifMatch' | 'createOnly' | 'idempotencyKey'>,
  ): Promise<PersistGameAnswer>;
  /** `POST /api/game/{gameId}/events`: events and the optional snapshot in one commit. */
  appendGameEvents<S extends JsonObject>(
    gameId: string,
    input: AppendGameEventsInput<S>,
  ): Promise<AppendGameEventsAnswer>;
  /** `GET /api/game/{gameId}/events`: one page of events, ascending. */
  readGameEvents<D = Json>(gameId: string, options?: ReadGameEventsOptions): Promise<GameEvents<D>>;
  /** `GET /api/game/{gameId}/restore`, or `undefined` when there is no such game. */
  restoreGame<S extends JsonObject = JsonObject>(gameId: string): Promise<GameRecord<S> | undefined>;
  /** `GET /api/game/{gameId}/connection-token`: a new reconnect token for a seated player. */
  connectionToken(gameId: string, playerId: string): Promise<ConnectionToken>;
  /**
   * `POST /api/game/{gameId}/reconnect`: needs no API key (the token is the credential). Keep the
   * answer's `reconnectToken`: the one sent is spent. Of concurrent reconnects for a seat one wins;
   * the others throw `SEAT_TAKEN` (409).
   */
  reconnect<S extends JsonObject = JsonObject>(
    gameId: string,
    input: ReconnectInput,
  ): Promise<ReconnectAnswer<S>>;
  /** `DELETE /api/game/{gameId}/persist`: true if deleted, false if there was no such game. */
  deleteGame(gameId: string): Promise<boolean>;
}

const segment = (id: string): string => encodeURIComponent(id);

function conditionHeaders(options: WriteOptions): Record<string, string> {
  const headers: Record<string, string> = {};
  if (options.ifMatch !== undefined)
    headers['if-match'] = options.ifMatch === '*' ? '*' : `"${options.ifMatch}"`;
  if (options.createOnly === true) headers['if-none-match'] = '*';
  if (options.idempotencyKey !== undefined) headers['idempotency-key'] = options.idempotencyKey;
  return headers;
}

function defined<T extends object>(fields: T): Partial<T> {
  return Object.fromEntries(Object.entries(fields).filter(([, value]) => value !== undefined)) as Partial<T>;
}

async function problemOf(response: Response): Promise<Problem> {
  const text = await response.text();
  try {
    const parsed = JSON.parse(text) as Partial<Problem>;
    if (typeof parsed.code === 'string' && typeof parsed.detail === 'string') {
      return { type: '', title: '', ...parsed, status: response.status } as Problem;
    }
  } catch {
    // Not JSON: fall through to a generic problem.
  }
  return {
    type: 'about:blank',
    title: response.statusText,
    status: response.status,
    code: 'INTERNAL',
    detail: text.slice(0, 500) || response.statusText,
  };
}

/** Creates a client; see {@link ClientOptions}. */
export function createClient(options: ClientOptions): SavepointClient {
  const base = options.baseUrl.replace(/\/+$/, '');
  const fetchImpl = options.fetch ?? globalThis.fetch;
  const timeoutMs = options.timeoutMs ?? 30_000;

  async function request<T>(
    method: string,
    path: string,
    req: RequestOptions = {},
  ): Promise<ClientResponse<T>> {
    const url = new URL(base + path);
    for (const [name, value] of Object.entries(req.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = {
      accept: 'application/json, application/problem+json',
      ...req.headers,
    };
    if (options.apiKey !== undefined) headers.authorization = `Bearer ${options.apiKey}`;
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers['content-type'] = 'application/json';
    }
    const response = await fetchImpl(url, { method, headers, body, signal: AbortSignal.timeout(timeoutMs) });
    if (!response.ok && response.status !== 304) {
      const retryAfter = Number(response.headers.get('retry-after'));
      throw new SavepointHttpError(
        await problemOf(response),
        Number.isFinite(retryAfter) && retryAfter > 0 ? retryAfter : undefined,
      );
    }
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      body: (text === '' ? undefined : JSON.parse(text)) as T,
    };
  }

  const docPath = (collection: string, key: string) => `/v1/docs/${segment(collection)}/${segment(key)}`;
  const gamePath = (gameId: string, action: string) => `/api/game/${segment(gameId)}/${action}`;

  return {
    request,
    async health() {
      return (await request<Health>('GET', '/health')).body;
    },
    async getDocument<T>(collection: string, key: string) {
      try {
        return (await request<DocumentRecord<T>>('GET', docPath(collection, key))).body;
      } catch (error) {
        if (error instanceof SavepointHttpError && error.status === 404 && error.code === 'NOT_FOUND')
          return undefined;
        throw error;
      }
    },
    async getDocuments<T>(collection: string, keys: readonly string[]) {
      if (keys.length === 0) return [];
      const answer = await request<DocumentPage<T>>('GET', `/v1/docs/${segment(collection)}`, {
        query: { keys: keys.join(',') },
      });
      return [...answer.body.items];
    },
    async listDocuments<T>(collection: string, list: ListOptions = {}) {
      return (
        await request<DocumentPage<T>>('GET', `/v1/docs/${segment(collection)}`, { query: { ...list } })
      ).body;
    },
    async putDocument<T extends Json>(collection: string, key: string, value: T, put: PutOptions = {}) {
      const body = defined({ value, ttl: put.ttl, expectedVersion: put.expectedVersion });
      return (
        await request<DocumentRecord<T>>('PUT', docPath(collection, key), {
          body,
          headers: conditionHeaders(put),
        })
      ).body;
    },
    async patchDocument<T>(
      collection: string,
      key: string,
      patch: PatchOperators,
      update: PatchOptions = {},
    ) {
      const body = defined({
        ...patch,
        upsert: update.upsert,
        ttl: update.ttl,
        expectedVersion: update.expectedVersion,
      });
      return (
        await request<DocumentRecord<T>>('PATCH', docPath(collection, key), {
          body,
          headers: conditionHeaders(update),
        })
      ).body;
    },
    async deleteDocument(
      collection: string,
      key: string,
      remove: Pick<WriteOptions, 'ifMatch' | 'expectedVersion' | 'idempotencyKey'> = {},
    ) {
      try {
        await request('DELETE', docPath(collection, key), {
          query: { expectedVersion: remove.expectedVersion },
          headers: conditionHeaders(remove),
        });
        return true;
      } catch (error) {
        if (error instanceof SavepointHttpError && error.status === 404 && error.code === 'NOT_FOUND')
          return false;
        throw error;
      }
    },
    async commit(ops: readonly CommitOp[]) {
      return (await request<CommitAnswer>('POST', '/v1/commit', { body: { ops } })).body;
    },
    async persistGame<S extends JsonObject>(
      gameId: string,
      input: PersistGameInput<S>,
      persist: Pick<WriteOptions, 'ifMatch' | 'createOnly' | 'idempotencyKey'> = {},
    ) {
      return (
        await request<PersistGameAnswer>('POST', gamePath(gameId, 'persist'), {
          body: defined({ ...input }),
          headers: conditionHeaders(persist),
        })
      ).body;
    },
    async appendGameEvents<S extends JsonObject>(gameId: string, input: AppendGameEventsInput<S>) {
      return (
        await request<AppendGameEventsAnswer>('POST', gamePath(gameId, 'events'), {
          body: defined({ ...input }),
        })
      ).body;
    },
    async readGameEvents<D>(gameId: string, read: ReadGameEventsOptions = {}) {
      return (await request<GameEvents<D>>('GET', gamePath(gameId, 'events'), { query: { ...read } })).body;
    },
    async restoreGame<S extends JsonObject>(gameId: string) {
      try {
        return (await request<GameRecord<S>>('GET', gamePath(gameId, 'restore'))).body;
      } catch (error) {
        if (error instanceof SavepointHttpError && error.status === 404 && error.code === 'NOT_FOUND')
          return undefined;
        throw error;
      }
    },
    async connectionToken(gameId: string, playerId: string) {
      return (
        await request<ConnectionToken>('GET', gamePath(gameId, 'connection-token'), { query: { playerId } })
      ).body;
    },
    async reconnect<S extends JsonObject>(gameId: string, input: ReconnectInput) {
      return (
        await request<ReconnectAnswer<S>>('POST', gamePath(gameId, 'reconnect'), {
          body: defined({ ...input }),
        })
      ).body;
    },
    async deleteGame(gameId: string) {
      try {
        await request('DELETE', gamePath(gameId, 'persist'));
        return true;
      } catch (error) {
        if (error instanceof SavepointHttpError && error.status === 404 && error.code === 'NOT_FOUND')
          return false;
        throw error;
      }
    },
  };
}
