/**
 * The cold-start benchmark's baseline: a bare Fastify server on a better-sqlite3 file that answers
 * `GET /health` after one probe read, as Savepoint's `/health` does. It opens the file (WAL,
 * synchronous NORMAL), creates its table if needed, listens, and prints `listening on <url>`. No
 * auth, no schemas, no migrations: the least a server on that file can do before its first
 * answer. cold-start.ts compiles it to plain JavaScript first, so that no TypeScript loader is
 * timed.
 *
 *   node <compiled>.mjs <sqlite file> [port]
 */
import Database from 'better-sqlite3';
import Fastify from 'fastify';

const [path, port] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: baseline-server.mjs <sqlite file> [port]');
const db = new Database(path);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.exec('CREATE TABLE IF NOT EXISTS games (game_id TEXT PRIMARY KEY, state TEXT NOT NULL) WITHOUT ROWID');
const probe = db.prepare('SELECT state FROM games WHERE game_id = ?');

const app = Fastify();
app.get('/health', async () => {
  probe.get('probe');
  return { status: 'ok' };
});
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
