/**
 * The open-loop games benchmark's baseline: a bare Fastify route, `POST /api/game/:gameId/events`,
 * that appends the events and upserts the snapshot with raw better-sqlite3 prepared statements in
 * one transaction (WAL, synchronous NORMAL: Savepoint's durability `normal`). No auth, no schema
 * validation, no versions, no conditions: the least that write can cost over HTTP. Run as a child
 * process by open-loop.ts.
 *
 *   node --import tsx bench/games/baseline-server.ts <sqlite file> [port]
 */
import Database from 'better-sqlite3';
import Fastify from 'fastify';

const [path, port] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: baseline-server.ts <sqlite file> [port]');
const db = new Database(path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec(`
  CREATE TABLE IF NOT EXISTS snapshots (game_id TEXT PRIMARY KEY, state TEXT NOT NULL, last_seq INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS events (
    game_id TEXT NOT NULL, seq INTEGER NOT NULL, type TEXT NOT NULL, data TEXT NOT NULL, at INTEGER NOT NULL,
    PRIMARY KEY (game_id, seq)
  ) WITHOUT ROWID;
`);
const head = db.prepare('SELECT last_seq FROM snapshots WHERE game_id = ?').pluck();
const insertEvent = db.prepare('INSERT INTO events (game_id, seq, type, data, at) VALUES (?, ?, ?, ?, ?)');
const upsertSnapshot = db.prepare(
  `INSERT INTO snapshots (game_id, state, last_seq) VALUES (?, ?, ?)
   ON CONFLICT (game_id) DO UPDATE SET state = excluded.state, last_seq = excluded.last_seq`,
);
const appendEvents = db.transaction(
  (gameId: string, events: Array<{ type: string; data?: unknown }>, state: unknown) => {
    const last = (head.get(gameId) as number | undefined) ?? 0;
    const at = Date.now();
    events.forEach((event, i) => {
      insertEvent.run(gameId, last + 1 + i, event.type, JSON.stringify(event.data ?? null), at);
    });
    upsertSnapshot.run(gameId, JSON.stringify(state ?? {}), last + events.length);
    return { firstSeq: last + 1, lastSeq: last + events.length };
  },
);

const app = Fastify();
app.post<{
  Params: { gameId: string };
  Body: { events: Array<{ type: string; data?: unknown }>; state?: unknown };
}>('/api/game/:gameId/events', async (request) =>
  appendEvents(request.params.gameId, request.body.events, request.body.state),
);
await app.listen({ host: '127.0.0.1', port: Number(port ?? 0) });
const address = app.server.address();
console.log(
  `listening on http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : port}`,
);
process.once('SIGTERM', () => {
  void app.close().then(() => {
    db.close();
    process.exit(0);
  });
});
