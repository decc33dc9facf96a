/**
 * The HTTP benchmark's baseline: a bare Fastify route that reads the same row of Savepoint's
 * SQLite file with a raw better-sqlite3 prepared statement. No auth, no validation, no versions:
 * the least an HTTP read of that row can cost. Run as a child process by http.ts.
 */
import Database from 'better-sqlite3';
import Fastify from 'fastify';

const [path, port] = process.argv.slice(2);
if (path === undefined) throw new Error('usage: baseline-server.ts <sqlite file> [port]');
const db = new Database(path, { readonly: true });
db.pragma('journal_mode = WAL');
const read = db.prepare('SELECT value, version, updated_at FROM documents WHERE collection = ? AND key = ?');
const app = Fastify();
app.get<{ Params: { collection: string; key: string } }>(
  '/v1/docs/:collection/:key',
  async (request, reply) => {
    const row = read.get(request.params.collection, request.params.key) as
      | { value: string; version: number; updated_at: number }
      | undefined;
    if (row === undefined) return reply.code(404).send({ code: 'NOT_FOUND' });
    return {
      key: request.params.key,
      value: JSON.parse(row.value),
      version: row.version,
      updatedAt: row.updated_at,
    };
  },
);
await app.listen({ host: '127.0.0.1', port: Number(port ?? 0) });
const address = app.server.address();
console.log(
  `listening on http://127.0.0.1:${typeof address === 'object' && address !== null ? address.port : port}`,
);
