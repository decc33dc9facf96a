/**
 * A small multiplayer poker server that survives kill -9. It keeps each table in memory, as game
 * servers do, and embeds Savepoint as a library: every move is appended to the table's event log
 * together with a snapshot of the whole table in one durable commit before the player hears "ok".
 * After a crash nothing is loaded eagerly: the first request for a table restores it, and players
 * reclaim their seats with their reconnect token and receive exactly the events they missed.
 *
 * Several servers can share one store (one SQLite file on one host, or PostgreSQL). A server owns a
 * table while it holds the lease `game:{tableId}` (see tables.ts); when the owner dies, the next
 * server a player comes to takes the table over once the lease has run out.
 *
 *   node --import tsx examples/card-game/server.ts [--port 8790] [--data-dir ./data/card-game]
 *       [--database sqlite:<path> | postgres://…] [--redis redis://…] [--server-id <name>]
 *       [--lease-ttl-ms 3000] [--lease-wait-ms 4000]
 *
 * HTTP API (JSON):
 *   POST /tables                        { tableId, players }  → 201 { tableId, tokens, lastSeq }
 *   GET  /tables/:id/view?playerId=&token=                     → { view, lastSeq }
 *   POST /tables/:id/act                { playerId, token, action } → { seq, view }
 *   POST /tables/:id/reconnect          { playerId, token, lastEventSeq? }
 *                                         → { token, lastSeq, missedEvents, view }
 *   GET  /tables/:id/events?playerId=&token=   server-sent events; Last-Event-ID resumes
 *   GET  /tables/:id/owner                     → { holder, fence, expiresAt } or 404
 * A table another live server owns answers 409 { code: 'TABLE_OWNED_ELSEWHERE', holder, expiresAt }
 * (after waiting up to --lease-wait-ms for its lease, in case that server is dead).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { isSavepointError, openSavepoint, SavepointError } from '../../src/index.js';
import { ACTIONS, type Action, RuleError, type TableState, viewFor } from './poker.js';
import { TableHost, TableOwnedElsewhere } from './tables.js';

const USAGE = `usage: node --import tsx examples/card-game/server.ts [options]

A small poker server that embeds Savepoint and survives kill -9 (see examples/card-game/README.md).

  --port N              port to listen on (env PORT; default 8790)
  --host HOST           interface to bind (default 127.0.0.1)
  --data-dir DIR        where the SQLite file lives (env DATA_DIR; default ./data/card-game)
  --database URL        sqlite:<path> or postgres://... (env DATABASE_URL; default sqlite:<data-dir>/card-game.db)
  --redis URL           redis://... for several servers on PostgreSQL (env REDIS_URL)
  --server-id NAME      the lease holder (env SERVER_ID; default <hostname>:<port>)
  --lease-ttl-ms N      how long a table's lease lasts without renewal (default 3000)
  --lease-wait-ms N     how long to wait for another server's lease before answering 409
  -h, --help            this text`;

function parseArguments() {
  try {
    return parseArgs({
      options: {
        port: { type: 'string', default: process.env.PORT ?? '8790' },
        host: { type: 'string', default: '127.0.0.1' },
        'data-dir': { type: 'string', default: process.env.DATA_DIR ?? './data/card-game' },
        /** A storage URL for openSavepoint; default `sqlite:<data-dir>/card-game.db`. */
        database: { type: 'string', default: process.env.DATABASE_URL },
        redis: { type: 'string', default: process.env.REDIS_URL },
        /** The lease holder; default `<hostname>:<port>`, so a server restarted in place gets its tables back at once. */
        'server-id': { type: 'string', default: process.env.SERVER_ID },
        'lease-ttl-ms': { type: 'string', default: '3000' },
        'lease-wait-ms': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    }).values;
  } catch (error) {
    console.error(`error: ${error instanceof Error ? error.message : String(error)}\n\n${USAGE}`);
    process.exit(2);
  }
}

const args = parseArguments();
if (args.help === true) {
  console.log(USAGE);
  process.exit(0);
}

const savepoint = await openSavepoint({
  url: args.database ?? `sqlite:${join(resolve(args['data-dir']), 'card-game.db')}`,
  ...(args.redis === undefined ? {} : { redisUrl: args.redis }),
});
// Savepoint's games module: snapshots, event logs, reconnect tokens. Defaults: tokens live 30 min.
const { games } = savepoint;

const server = createServer((request, response) => {
  void handle(request, response);
});
server.listen(Number(args.port), args.host);
await once(server, 'listening');
const address = server.address();
const port = typeof address === 'object' && address !== null ? address.port : args.port;

const leaseTtlMs = Number(args['lease-ttl-ms']);
const host = new TableHost({
  games,
  leases: savepoint.leases,
  serverId: args['server-id'] ?? `${hostname()}:${port}`,
  leaseTtlMs,
  ...(args['lease-wait-ms'] === undefined ? {} : { leaseWaitMs: Number(args['lease-wait-ms']) }),
});

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
      const written = await host.create(tableId, players);
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
      const table = await host.table(tableId);
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
      return [200, await host.move(tableId, playerId, action)];
    },
  ],
  [
    'POST',
    /^\/tables\/([^/]+)\/reconnect$/,
    async (request, _response, _url, [tableId = '']) => {
      const body = await readJson(request);
      const playerId = text(body.playerId, 'playerId');
      const token = text(body.token, 'token');
      await games.verifyToken(tableId, playerId, token);
      // Players reconnect to the table's owner: coming here makes this server take it over (once
      // a dead owner's lease has run out), so the missed events end with the take-over.
      await host.table(tableId);
      const result = await games.reconnect(tableId, {
        playerId,
        reconnectToken: token,
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
      const playerId = text(url.searchParams.get('playerId'), 'playerId');
      const token = text(url.searchParams.get('token'), 'token');
      await games.verifyToken(tableId, playerId, token);
      const table = await host.table(tableId);
      const feed = await games.openFeed(tableId, {
        after: typeof header === 'string' && /^\d+$/.test(header) ? Number(header) : 0,
        playerId,
        token,
      });
      response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
      response.write(': hello\n\n');
      const heartbeat = setInterval(() => response.write(': heartbeat\n\n'), 15_000);
      // A server that no longer owns the table closes its streams: the players reconnect elsewhere.
      const stopWatching = host.onDrop(table, () => response.destroy());
      response.once('close', () => {
        stopWatching();
        void feed.return();
      });
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
  [
    'GET',
    /^\/tables\/([^/]+)\/owner$/,
    async (_request, _response, _url, [tableId = '']) => {
      const lease = await host.owner(tableId);
      if (lease === undefined) return [404, { code: 'NOT_FOUND', message: `Nobody owns table ${tableId}` }];
      const { holder, fence, expiresAt } = lease;
      return [200, { holder, fence, expiresAt: new Date(expiresAt).toISOString(), self: host.serverId }];
    },
  ],
];

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
    } else if (error instanceof TableOwnedElsewhere) {
      const { holder, expiresAt, message } = error;
      send(response, 409, { code: 'TABLE_OWNED_ELSEWHERE', message, holder, expiresAt });
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

console.log(`listening on http://${args.host}:${port} as ${host.serverId}`);

for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    server.closeAllConnections();
    server.close();
    // Pending writes finish and the leases go back (another server can take over at once), then
    // the store closes.
    void host.close().finally(() => savepoint.close());
  });
}
