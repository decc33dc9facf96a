/**
 * The games API (docs/api.md#games): persist, events, restore, connection tokens, reconnect, delete,
 * and the server-sent event stream. Every rule lives in {@link Games}; these handlers translate
 * HTTP (headers, status codes, SSE framing) and nothing else.
 */
import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { EventInput, JsonObject } from '../../engine/types.js';
import { invalidInput, SavepointError } from '../../errors.js';
import { keyMatcher, presentedKey, SECURITY_SCHEME } from '../../http-kit/auth.js';
import { entityTag, notModified, parseWriteCondition, underCondition } from '../../http-kit/preconditions.js';
import { problemFor } from '../../http-kit/problem.js';
import { MAX_SAFE_INTEGER, problemResponses } from '../../http-kit/schemas.js';
import type { ModuleRoutes } from '../../module.js';
import type { GameEventFeed } from './event-feed.js';
import { GAME_COLLECTION, type GameEvent } from './game-record.js';
import type { Games } from './games.js';
import {
  AppendBody,
  AppendResponse,
  ConnectionTokenResponse,
  EventStream,
  EventsQuery,
  EventsResponse,
  ForkBody,
  ForkResponse,
  GameParams,
  GameRecordSchema,
  HistoryQuery,
  HistoryResponse,
  PersistBody,
  PersistResponse,
  ReconnectBody,
  ReconnectResponse,
  RestoreQuery,
  RollbackBody,
  RollbackResponse,
  SSE_CONTENT_TYPE,
  StreamHeaders,
  StreamQuery,
  TokenQuery,
} from './games.schema.js';

const tags = ['games'];

/** A comment line on idle streams, so proxies and clients see the connection is alive. */
export const SSE_HEARTBEAT_MS = 15_000;

type Params = { gameId: string };

const NO_STORE = 'no-store';

function assertSameGame(pathGameId: string, bodyGameId: string | undefined): void {
  if (bodyGameId !== undefined && bodyGameId !== pathGameId)
    throw invalidInput(`The body gameId "${bodyGameId}" differs from the path gameId "${pathGameId}"`);
}

/** `Last-Event-ID` wins over `?lastEventId=`: a browser's EventSource resends the header with a newer value. */
function lastEventIdOf(header: string | string[] | undefined, query: number | undefined): number {
  const value = Array.isArray(header) ? header[header.length - 1] : header;
  if (value === undefined || value.trim() === '') return query ?? 0;
  const seq = /^\d{1,16}$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isSafeInteger(seq))
    throw invalidInput(`Last-Event-ID must be an event seq (an integer from 0 to ${MAX_SAFE_INTEGER})`);
  return seq;
}

/** One server-sent event. Types cannot hold line breaks (the engine refuses control characters) and JSON has none. */
function sseFrame(event: GameEvent): string {
  return `id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`;
}

/** `/api/game/{gameId}/…`. */
export const gamesRoutes: ModuleRoutes<Games> = async (app, { api: games, apiKey, metrics }) => {
  // The stream takes the key or a player token, so it checks the key itself (auth: 'none').
  const matchesKey = keyMatcher(apiKey);

  const reconnects = metrics.counter<'outcome'>({
    name: 'game_reconnects_total',
    help: 'Reconnect attempts, by outcome (ok or the error code)',
    labelNames: ['outcome'],
  });
  const streamsOpen = metrics.gauge({ name: 'game_streams_open', help: 'Open game event streams (SSE)' });

  /** Open streams, ended when the server closes so that `close()` does not wait on them. */
  const streams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of streams) end();
  });

  app.post<{ Params: Params; Body: PersistBody }>(
    '/api/game/:gameId/persist',
    {
      schema: {
        tags,
        summary: 'Persist a game snapshot',
        description:
          'Creates the game or replaces its snapshot. players, phase and status default to their stored values. ' +
          'status "completed" completes the game in the same commit: events and reconnects then answer 410, and the ' +
          'game, its events and its tokens expire after SAVEPOINT_GAME_TTL. A completed game keeps accepting snapshots ' +
          'but reopening it (status "active") needs forceOverwrite. A stale expectedVersion answers 409 unless ' +
          'forceOverwrite is true; If-Match: "<version>" and If-None-Match: * work too and answer 412. ' +
          'Answers ETag: "<version>". When the storage is unavailable the write is queued in memory and answered 202 ' +
          'with durable: false; it is written in order when the storage answers again (503 when the queue is full).',
        params: GameParams,
        body: PersistBody,
        response: {
          200: PersistResponse,
          202: PersistResponse,
          ...problemResponses(400, 401, 409, 410, 412, 413, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const { gameId } = request.params;
      const { gameId: bodyGameId, expectedVersion, ...input } = request.body;
      assertSameGame(gameId, bodyGameId);
      // If-Match: * and tag lists are checked on the domain's own read of the game: one read per write.
      const condition = parseWriteCondition(GAME_COLLECTION, gameId, {
        ifMatch: request.headers['if-match'],
        ifNoneMatch: request.headers['if-none-match'],
        expectedVersion,
      });
      const pinned =
        'check' in condition
          ? undefined
          : condition.condition.mustNotExist === true
            ? 0
            : condition.condition.expectedVersion;
      const result = await underCondition(condition, () =>
        games.persist(
          gameId,
          {
            ...input,
            // Checked as an object by the schema; the domain checks that it is plain JSON.
            state: input.state as JsonObject,
            ...(pinned === undefined ? {} : { expectedVersion: pinned }),
          },
          'check' in condition ? { versionCheck: condition.check } : {},
        ),
      );
      reply.header('etag', entityTag(result.version));
      // Queued in memory while the storage is unavailable: accepted, not yet stored.
      if (result.durable === false) reply.code(202);
      return result;
    },
  );

  app.delete<{ Params: Params }>(
    '/api/game/:gameId/persist',
    {
      schema: {
        tags,
        summary: 'Delete a game',
        description:
          'Removes the snapshot, the events and the tokens in one commit. Works on unreadable records too.',
        params: GameParams,
        response: { 204: { type: 'null', description: 'Deleted' }, ...problemResponses(400, 401, 404, 503) },
      },
    },
    async (request, reply) => {
      await games.delete(request.params.gameId);
      return reply.code(204).send();
    },
  );

  app.post<{ Params: Params; Body: AppendBody }>(
    '/api/game/:gameId/events',
    {
      schema: {
        tags,
        summary: 'Append events, optionally with a snapshot',
        description:
          'The events, the optional state and phase, and the new last seq are written in one commit. ' +
          'expectedSeq that is not the current last seq answers 409 and writes nothing. A completed game answers 410. ' +
          'When the storage is unavailable the events are queued in memory and answered 202 with durable: false.',
        params: GameParams,
        body: AppendBody,
        response: {
          200: AppendResponse,
          202: AppendResponse,
          ...problemResponses(400, 401, 404, 409, 410, 413, 422, 503),
        },
      },
    },
    async (request, reply) => {
      const { events, state, ...rest } = request.body;
      const result = await games.appendEvents(request.params.gameId, {
        ...rest,
        // `unknown` from the schema; the domain checks that it is plain JSON.
        events: events as EventInput[],
        ...(state === undefined ? {} : { state: state as JsonObject }),
      });
      reply.header('etag', entityTag(result.version));
      // Queued in memory while the storage is unavailable: accepted, not yet stored.
      if (result.durable === false) reply.code(202);
      return result;
    },
  );

  app.get<{ Params: Params; Querystring: EventsQuery }>(
    '/api/game/:gameId/events',
    {
      schema: {
        tags,
        summary: 'Read events',
        description: 'Events with seq > after (default 0), ascending, at most limit (1-1000, default 100).',
        params: GameParams,
        querystring: EventsQuery,
        response: { 200: EventsResponse, ...problemResponses(400, 401, 404, 422) },
      },
    },
    async (request) => {
      const { after, limit } = request.query;
      const events = await games.readEvents(request.params.gameId, {
        ...(after === undefined ? {} : { after }),
        ...(limit === undefined ? {} : { limit }),
      });
      return { events };
    },
  );

  app.get<{ Params: Params; Querystring: RestoreQuery }>(
    '/api/game/:gameId/restore',
    {
      schema: {
        tags,
        summary: 'Restore a game',
        description:
          'The last snapshot and the last event seq it reflects. Sends ETag: "<version>"; If-None-Match with it answers 304. ' +
          'With ?version=V, the game as it was at version V (lastSeq as it was then), with ETag "<V>"; 404 NOT_FOUND ' +
          'if V was never stored or has been pruned, and the detail says which (SAVEPOINT_GAME_HISTORY versions are kept). ' +
          'A stored record that cannot be read answers 422 CORRUPT_DATA saying what is damaged; persist with ' +
          'forceOverwrite or delete the game to recover.',
        params: GameParams,
        querystring: RestoreQuery,
        response: {
          200: GameRecordSchema,
          304: { type: 'null', description: 'Not modified' },
          ...problemResponses(400, 401, 404, 422),
        },
      },
    },
    async (request, reply) => {
      const { gameId } = request.params;
      const { version } = request.query;
      const record =
        version === undefined ? await games.restore(gameId) : await games.restoreVersion(gameId, version);
      reply.header('etag', entityTag(record.version));
      if (notModified(request.headers['if-none-match'], record.version)) return reply.code(304).send();
      return record;
    },
  );

  app.get<{ Params: Params; Querystring: HistoryQuery }>(
    '/api/game/:gameId/history',
    {
      schema: {
        tags,
        summary: "List a game's versions",
        description:
          'The retained versions, newest first: each persist, rollback, fork, or events call that carries a state or ' +
          'phase makes one. The last SAVEPOINT_GAME_HISTORY (default 100) are kept. Page with before=nextBefore.',
        params: GameParams,
        querystring: HistoryQuery,
        response: { 200: HistoryResponse, ...problemResponses(400, 401, 404, 422) },
      },
    },
    async (request) => {
      const { before, limit } = request.query;
      return games.history(request.params.gameId, {
        ...(before === undefined ? {} : { before }),
        ...(limit === undefined ? {} : { limit }),
      });
    },
  );

  app.post<{ Params: Params; Body: RollbackBody }>(
    '/api/game/:gameId/rollback',
    {
      schema: {
        tags,
        summary: 'Roll a game back to a version',
        description:
          'The state, players, phase and status of toVersion become current as a new version. In the same commit one ' +
          'event { type: "rollback", data: { fromVersion, toVersion, reason } } is appended, so stream subscribers and ' +
          'reconnecting players see it. Nothing in the history is rewritten or removed. Rolling back to the current ' +
          'version changes nothing and answers 200 with that version (no event). 404 if toVersion was never stored or ' +
          'has been pruned; 409 VERSION_CONFLICT on a stale expectedVersion.',
        params: GameParams,
        body: RollbackBody,
        response: { 200: RollbackResponse, ...problemResponses(400, 401, 404, 409, 413, 422, 503) },
      },
    },
    async (request) => games.rollback(request.params.gameId, request.body),
  );

  app.post<{ Params: Params; Body: ForkBody }>(
    '/api/game/:gameId/fork',
    {
      schema: {
        tags,
        summary: 'Fork a game at a version',
        description:
          'Creates newGameId holding the state of atVersion (default: current) and a copy of the events up to that ' +
          "version's lastSeq, with the same seq numbers (each copied event's time is the fork's). The new game is " +
          "active; no tokens are copied; players default to that version's. 409 VERSION_CONFLICT if newGameId exists.",
        params: GameParams,
        body: ForkBody,
        response: { 201: ForkResponse, ...problemResponses(400, 401, 404, 409, 413, 422, 503) },
      },
    },
    async (request, reply) => {
      const result = await games.fork(request.params.gameId, request.body);
      return reply.code(201).send(result);
    },
  );

  app.get<{ Params: Params; Querystring: { playerId: string } }>(
    '/api/game/:gameId/connection-token',
    {
      schema: {
        tags,
        summary: "Issue a player's reconnect token",
        description:
          'A new token for the seat, replacing the previous one. It expires after SAVEPOINT_TOKEN_TTL. ' +
          '403 FORBIDDEN if playerId is not one of the game players, 410 GAME_COMPLETED for a completed game.',
        params: GameParams,
        querystring: TokenQuery,
        response: { 200: ConnectionTokenResponse, ...problemResponses(400, 401, 403, 404, 410, 422) },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', NO_STORE);
      return games.issueToken(request.params.gameId, request.query.playerId);
    },
  );

  app.post<{ Params: Params; Body: ReconnectBody }>(
    '/api/game/:gameId/reconnect',
    {
      config: {
        auth: 'none',
        // No API key names the caller, so a key is scoped to the seat the body claims.
        idempotencyScope: (request) => {
          const { gameId } = request.params as Params;
          const { playerId } = request.body as ReconnectBody;
          return ['reconnect', gameId, playerId];
        },
      },
      schema: {
        tags,
        summary: 'Reclaim a seat with a reconnect token',
        description:
          'No API key: the token is the credential. On success the token is rotated (the answer carries the new one) ' +
          'and missedEvents holds the events after lastEventSeq (all when absent) up to gameState.lastSeq. ' +
          'lastEventSeq negative or beyond the last event: 400 INVALID_INPUT, and the token is not spent. ' +
          '401 TOKEN_INVALID: unknown, for another game or player, or already used. 401 TOKEN_EXPIRED. ' +
          '409 SEAT_TAKEN: a concurrent reconnect for the seat won. Of concurrent reconnects with one token exactly ' +
          'one gets 200; the winner is answered at once, and the rotation is stored with the replaced token, so the ' +
          'rule holds across instances. A request presenting the replaced token within 2 s of the rotation ' +
          '(seatRaceWindowMs) is taken for a concurrent claim and gets 409 SEAT_TAKEN; after that it is spent and ' +
          'gets 401 TOKEN_INVALID. 410 GAME_COMPLETED. ' +
          '429 RATE_LIMITED after repeated failures for the seat (Retry-After says when to retry).',
        params: GameParams,
        body: ReconnectBody,
        security: [],
        response: { 200: ReconnectResponse, ...problemResponses(400, 401, 409, 410, 422, 429, 503) },
      },
    },
    async (request, reply) => {
      const { gameId } = request.params;
      const { gameId: bodyGameId, ...input } = request.body;
      reply.header('cache-control', NO_STORE);
      try {
        assertSameGame(gameId, bodyGameId);
        const result = await games.reconnect(gameId, input);
        reconnects.inc({ outcome: 'ok' });
        return result;
      } catch (error) {
        reconnects.inc({ outcome: error instanceof SavepointError ? error.code : 'INTERNAL' });
        throw error;
      }
    },
  );

  app.get<{ Params: Params; Querystring: StreamQuery }>(
    '/api/game/:gameId/stream',
    {
      config: { auth: 'none' },
      schema: {
        tags,
        summary: 'Stream events (server-sent events)',
        description:
          'Send the API key, or playerId and token (checked, not rotated). Each event is `id: <seq>`, ' +
          '`event: <type>` and `data: <the event data as JSON>`. The stream first replays every event after ' +
          'Last-Event-ID (the header, or ?lastEventId= for clients that cannot set headers; the header wins), then ' +
          'sends new events as they are written, through this or any other instance, without gaps or duplicates. ' +
          `A comment line is sent every ${SSE_HEARTBEAT_MS / 1000} s. The stream ends when the game is deleted. ` +
          'Last-Event-ID beyond the last event: 400 INVALID_INPUT.',
        params: GameParams,
        querystring: StreamQuery,
        headers: StreamHeaders,
        security: [{ [SECURITY_SCHEME]: [] }, {}],
        response: {
          200: {
            description: 'The event stream',
            content: { [SSE_CONTENT_TYPE]: { schema: EventStream } },
          },
          ...problemResponses(400, 401, 404, 410, 422, 429),
        },
      },
    },
    async (request, reply) => {
      const { gameId } = request.params;
      const { playerId, token, lastEventId } = request.query;
      const after = lastEventIdOf(request.headers['last-event-id'], lastEventId);
      if (playerId === undefined && token === undefined) assertApiKey(request, matchesKey);
      const abort = new AbortController();
      // Every check happens before the stream opens, so failures are ordinary problem answers.
      const feed = await games.openFeed(gameId, {
        after,
        signal: abort.signal,
        ...(playerId === undefined ? {} : { playerId }),
        ...(token === undefined ? {} : { token }),
      });
      await streamEvents(
        reply,
        feed,
        abort,
        streams,
        () => streamsOpen.inc(),
        () => streamsOpen.dec(),
      );
    },
  );
};

function assertApiKey(request: FastifyRequest, matchesKey: (presented: string) => boolean): void {
  const presented = presentedKey(request.headers.authorization);
  if (presented === undefined || !matchesKey(presented)) {
    throw new SavepointError(
      'UNAUTHORIZED',
      'This stream needs the API key (Authorization: Bearer <key>) or ?playerId=&token= with a reconnect token',
    );
  }
}

/** Writes the feed as server-sent events until the client leaves, the feed ends, or the server closes. */
async function streamEvents(
  reply: FastifyReply,
  feed: GameEventFeed,
  abort: AbortController,
  streams: Set<() => void>,
  opened: () => void,
  closed: () => void,
): Promise<void> {
  reply.hijack();
  const response: ServerResponse = reply.raw;
  response.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': NO_STORE,
    connection: 'keep-alive',
    // Tells nginx-style proxies not to buffer the stream.
    'x-accel-buffering': 'no',
  });
  response.write(': stream open\n\n');
  const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), SSE_HEARTBEAT_MS);
  const end = (): void => abort.abort();
  streams.add(end);
  // The response's 'close', not the request's: a GET request 'closes' as soon as it has been read.
  response.once('close', end);
  opened();
  try {
    for await (const event of feed) {
      if (!response.write(sseFrame(event)) && !abort.signal.aborted) {
        // A slow client: wait for its buffer to drain (or for it to leave) before writing more.
        await Promise.race([once(response, 'drain'), once(abort.signal, 'abort')]);
      }
    }
  } catch (error) {
    // The stream is open, so a failure (storage down, a corrupt event) is told as an SSE error event.
    if (!response.destroyed)
      response.write(`event: error\ndata: ${JSON.stringify(problemFor(error).problem)}\n\n`);
  } finally {
    clearInterval(heartbeat);
    streams.delete(end);
    response.off('close', end);
    closed();
    await feed.return();
    if (!response.destroyed) response.end();
  }
}
