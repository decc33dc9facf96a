/**
 * A small multiplayer poker server that survives kill -9. It keeps each table in memory, as game
 * servers do, and embeds Savepoint as a library: every move is appended to the table's event log
 * together with a snapshot of the whole table in one durable commit before the player hears "ok".
 * After a crash nothing is loaded eagerly: the first request for a table restores it, and players
 * reclaim their seats with their reconnect token and receive exactly the events they missed.
 *
 *   node --import tsx examples/card-game/server.ts [--port 8790] [--data-dir ./data/card-game]
 *
 * HTTP API (JSON):
 *   POST /tables                        { tableId, players }  → 201 { tableId, tokens, lastSeq }
 *   GET  /tables/:id/view?playerId=&token=                     → { view, lastSeq }
 *   POST /tables/:id/act                { playerId, token, action } → { seq, view }
 *   POST /tables/:id/reconnect          { playerId, token, lastEventSeq? }
 *                                         → { token, lastSeq, missedEvents, view }
 *   GET  /tables/:id/events?playerId=&token=   server-sent events; Last-Event-ID resumes
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import type { GameTracker } from '../../src/domains/games/game-tracker.js';
import { Games } from '../../src/domains/games/games.js';
import { isSavepointError, openSavepoint, SavepointError } from '../../src/index.js';
import {
  ACTIONS,
  type Action,
  act,
  beginGame,
  newTable,
  RuleError,
  type TableState,
  viewFor,
} from './poker.js';

const { values: args } = parseArgs({
  options: {
    port: { type: 'string', default: process.env.PORT ?? '8790' },
    host: { type: 'string', default: '127.0.0.1' },
    'data-dir': { type: 'string', default: process.env.DATA_DIR ?? './data/card-game' },
  },
});

const savepoint = await openSavepoint({ url: `sqlite:${join(resolve(args['data-dir']), 'card-game.db')}` });
// Savepoint's games module: snapshots, event logs, reconnect tokens. Defaults: tokens live 30 min.
const games = new Games(savepoint.store);

interface LiveTable {
  readonly state: TableState;
  readonly tracker: GameTracker;
}

/** Tables in memory, loaded on first use: start-up time does not grow with the number of games. */
const tables = new Map<string, Promise<LiveTable>>();

function track(tableId: string, state: TableState): LiveTable {
  const tracker = games.track(tableId, {
    getState: () => state,
    getPhase: () => state.phase,
    getPlayers: () => state.players,
  });
  return { state, tracker };
}

function liveTable(tableId: string): Promise<LiveTable> {
  let table = tables.get(tableId);
  if (table === undefined) {
    table = games.restore(tableId).then((record) => track(tableId, record.state as TableState));
    tables.set(tableId, table);
    // A failed load is not cached: the next request tries again.
    table.catch(() => tables.delete(tableId));
  }
  return table;
}

/** Writes a move's events with the table snapshot; the promise settles when they are durable. */
async function commitMove(tableId: string, table: LiveTable, events: Parameters<GameTracker['record']>[0]) {
  try {
    return await table.tracker.record(events);
  } catch (error) {
    // Memory and storage disagree now: forget the table, so the next request restores it.
    tables.delete(tableId);
    throw error;
  }
}

type Handler = (
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
  params: string[],
) => Promise<unknown>;

const routes: Array<[method: string, pattern: RegExp, handler: Handler]> = [
  [
    'POST',
    /^\/tables$/,
    async (request) => {
      const body = await readJson(request);
      const tableId = text(body.tableId, 'tableId');
      const players = Array.isArray(body.players) ? body.players.map((p) => text(p, 'players[]')) : [];
      const state = newTable(tableId, players);
      // Create only (expectedVersion 0): a second create of the same table is a conflict.
      await games.persist(tableId, { state, players, phase: state.phase, expectedVersion: 0 });
      const table = track(tableId, state);
      tables.set(tableId, Promise.resolve(table));
      const written = await commitMove(tableId, table, beginGame(state));
      const tokens: Record<string, string> = {};
      for (const player of players) tokens[player] = (await games.issueToken(tableId, player)).token;
      return [201, { tableId, tokens, lastSeq: written.lastSeq }];
    },
  ],
  [
    'GET',
    /^\/tables\/([^/]+)\/view$/,
    async (_request, _response, url, [tableId = '']) => {
      const playerId = text(url.searchParams.get('playerId'), 'playerId');
      const record = await games.verifyToken(tableId, playerId, text(url.searchParams.get('token'), 'token'));
      const table = await liveTable(tableId);
      return [200, { view: viewFor(table.state, playerId), lastSeq: record.lastSeq }];
    },
  ],
  [
    'POST',
    /^\/tables\/([^/]+)\/act$/,
    async (request, _response, _url, [tableId = '']) => {
      const body = await readJson(request);
      const playerId = text(body.playerId, 'playerId');
      const action = text(body.action, 'action') as Action;
      if (!ACTIONS.includes(action)) throw new RuleError(`action must be one of ${ACTIONS.join(', ')}`);
      await games.verifyToken(tableId, playerId, text(body.token, 'token'));
      const table = await liveTable(tableId);
      const events = act(table.state, playerId, action);
      const view = viewFor(table.state, playerId);
      const written = await commitMove(tableId, table, events);
      return [200, { seq: written.lastSeq, view }];
    },
  ],
  [
    'POST',
    /^\/tables\/([^/]+)\/reconnect$/,
    async (request, _response, _url, [tableId = '']) => {
      const body = await readJson(request);
      const playerId = text(body.playerId, 'playerId');
      const result = await games.reconnect(tableId, {
        playerId,
        reconnectToken: text(body.token, 'token'),
        ...(typeof body.lastEventSeq === 'number' ? { lastEventSeq: body.lastEventSeq } : {}),
      });
      // The view comes from the same snapshot as the missed events, so the two agree exactly.
      const view = viewFor(result.gameState.state as TableState, playerId);
      return [
        200,
        {
          token: result.reconnectToken,
          lastSeq: result.gameState.lastSeq,
          missedEvents: result.missedEvents,
          view,
        },
      ];
    },
  ],
  [
    'GET',
    /^\/tables\/([^/]+)\/events$/,
    async (request, response, url, [tableId = '']) => {
      const header = request.headers['last-event-id'];
      const feed = await games.openFeed(tableId, {
        after: typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : 0,
        playerId: text(url.searchParams.get('playerId'), 'playerId'),
        token: text(url.searchParams.get('token'), 'token'),
      });
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      response.write(': hello\n\n');
      const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), 15_000);
      response.once('close', () => void feed.return());
      try {
        for await (const event of feed) {
          response.write(`id: ${event.seq}\nevent: ${event.type}\ndata: ${JSON.stringify(event.data)}\n\n`);
        }
      } finally {
        clearInterval(heartbeat);
        response.end();
      }
      return undefined;
    },
  ],
];

const server = createServer((request, response) => {
  void handle(request, response);
});

async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? '/', 'http://localhost');
  try {
    for (const [method, pattern, handler] of routes) {
      const match = pattern.exec(url.pathname);
      if (match === null || request.method !== method) continue;
      const answer = await handler(request, response, url, match.slice(1).map(decodeURIComponent));
      if (Array.isArray(answer)) send(response, answer[0] as number, answer[1]);
      return;
    }
    send(response, 404, { code: 'NOT_FOUND', message: `No route for ${request.method} ${url.pathname}` });
  } catch (error) {
    if (response.headersSent) {
      response.destroy();
    } else if (error instanceof RuleError) {
      send(response, 409, { code: 'ILLEGAL_MOVE', message: error.message });
    } else if (isSavepointError(error)) {
      send(response, error.status, { code: error.code, message: error.message });
    } else {
      console.error(error);
      send(response, 500, { code: 'INTERNAL', message: 'unexpected error' });
    }
  }
}

function send(response: ServerResponse, status: number, body: unknown): void {
  response.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  try {
    const body: unknown = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}');
    if (typeof body === 'object' && body !== null && !Array.isArray(body))
      return body as Record<string, unknown>;
  } catch {
    // Answered below.
  }
  throw new SavepointError('INVALID_INPUT', 'The body must be a JSON object');
}

function text(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0)
    throw new SavepointError('INVALID_INPUT', `${what} is required`);
  return value;
}

server.listen(Number(args.port), args.host);
await once(server, 'listening');
const address = server.address();
const port = typeof address === 'object' && address !== null ? address.port : args.port;
console.log(`listening on http://${args.host}:${port}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.closeAllConnections();
    server.close();
    // Pending writes finish before the file closes.
    void Promise.all([...tables.values()].map(async (table) => (await table).tracker.flush())).finally(() =>
      savepoint.close(),
    );
  });
}
