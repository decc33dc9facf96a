/**
 * The admin calls (docs/api.md#operations) beyond `/v1/admin/sweep`: the audit log, backups and the
 * integrity check; all need the API key. On a SQLite file store this plugin also takes the
 * scheduled backups. (What tells `savepoint restore` that this store is open is the driver's own
 * store lock, held from open to close: see `src/drivers/sqlite/store-lock.ts`.)
 */
import { dirname } from 'node:path';
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { appendAudit, readAudit } from '../audit.js';
import type { Config } from '../config.js';
import { problemWithFileOffThread } from '../drivers/sqlite/integrity-off-thread.js';
import { backupSqliteFile, pruneBackups, startBackupScheduler } from '../drivers/sqlite/sqlite-backup.js';
import { invalidInput } from '../errors.js';
import { problemResponses, SafeInteger } from '../http-kit/schemas.js';
import { driverKindOf, sqlitePathOf } from '../open.js';
import type { Savepoint } from '../savepoint.js';
import type { ServerContext } from './server-context.js';

const AuditQuery = Type.Object(
  {
    after: Type.Optional(SafeInteger(0, 'Entries after this seq; default 0')),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, description: 'Default 100' })),
  },
  { additionalProperties: false },
);

const AuditAnswer = Type.Object({
  events: Type.Array(
    Type.Object({
      seq: Type.Integer(),
      type: Type.String({
        description: 'sweep, recovery, restore, backup, import, rankings-reset, stats-reset, …',
      }),
      data: Type.Unknown(),
      at: Type.String({ format: 'date-time' }),
    }),
  ),
});

const BackupAnswer = Type.Object({
  path: Type.String({ description: 'The backup file on the server' }),
  bytes: Type.Integer(),
  durationMs: Type.Number(),
});

/**
 * The SQLite file this server stores in, or `undefined` for any other store. Both the configured
 * URL and the open driver must say SQLite, so a server handed another store never backs up a file
 * it does not serve.
 */
export function servedSqliteFile(config: Config, savepoint: Savepoint): string | undefined {
  if (driverKindOf(config.databaseUrl) !== 'sqlite' || !savepoint.store.driverName.startsWith('sqlite'))
    return undefined;
  const file = sqlitePathOf(config.databaseUrl);
  return file === ':memory:' ? undefined : file;
}

/** The answer for a store that has no file to back up. */
function noFileBackup(driver: string): Error {
  return invalidInput(
    driver.startsWith('postgres')
      ? 'Backups of a PostgreSQL store are taken with pg_dump (point-in-time recovery: WAL archiving); `savepoint export` writes a portable copy of any store'
      : `The ${driver} store has no file to back up; \`savepoint export\` writes a copy of any store`,
  );
}

/** Savepoints whose start-up fallback is already in the audit log (one entry per process). */
const auditedRecoveries = new WeakSet<Savepoint>();

/** Records the start-up fallback, once, in the audit log. */
async function auditRecovery(savepoint: Savepoint): Promise<void> {
  const recovery = savepoint.recovery;
  if (recovery === undefined || auditedRecoveries.has(savepoint)) return;
  auditedRecoveries.add(savepoint);
  await appendAudit(savepoint.store, 'recovery', { ...recovery });
}

/** `/v1/admin/audit`, `/v1/admin/backup`, `/v1/admin/check`. */
export async function adminRoutes(app: FastifyInstance, options: ServerContext): Promise<void> {
  const { savepoint, config } = options;
  const { store } = savepoint;
  await auditRecovery(savepoint);
  const sqliteFile = servedSqliteFile(config, savepoint);

  if (sqliteFile !== undefined) {
    let stopBackups: (() => Promise<void>) | undefined;
    app.addHook('onReady', async () => {
      if (config.backupIntervalMs === 0) return;
      stopBackups = startBackupScheduler({
        source: sqliteFile,
        intervalMs: config.backupIntervalMs,
        keep: config.backupKeep,
        onBackup: (result, pruned) =>
          app.log.info({ backup: result.path, bytes: result.bytes, pruned: pruned.length }, 'backup taken'),
        onError: (error) => app.log.error({ err: error }, 'the scheduled backup failed; it will run again'),
      });
    });
    app.addHook('onClose', async () => {
      await stopBackups?.();
    });
  }

  app.get(
    '/v1/admin/check',
    {
      schema: {
        tags: ['operations'],
        summary:
          'Integrity: the storage check (SQLite integrity_check) and the relationships between records',
        response: {
          200: Type.Object({ ok: Type.Boolean(), problems: Type.Array(Type.String()) }),
          ...problemResponses(401, 503),
        },
      },
    },
    async () => {
      const problems: string[] = [];
      if (sqliteFile !== undefined) {
        // In a worker thread: the check reads every page, and this server keeps answering meanwhile.
        const problem = await problemWithFileOffThread(sqliteFile, { check: 'integrity' });
        if (problem !== undefined) problems.push(`the database file ${problem}`);
      }
      problems.push(...(await savepoint.checkModules()));
      return { ok: problems.length === 0, problems };
    },
  );

  app.post(
    '/v1/admin/backup',
    {
      schema: {
        tags: ['operations'],
        summary: 'Take an online backup of the SQLite store now',
        description:
          'Writes `<data dir>/backups/savepoint-<timestamp>.db`, verified with quick_check, and keeps the newest `SAVEPOINT_BACKUP_KEEP`. Other stores answer 400 INVALID_INPUT pointing to pg_dump and `savepoint export`.',
        response: { 200: BackupAnswer, ...problemResponses(400, 401, 422, 503) },
      },
    },
    async () => {
      if (sqliteFile === undefined) throw noFileBackup(store.driverName);
      const result = await backupSqliteFile(sqliteFile);
      pruneBackups(dirname(result.path), config.backupKeep);
      return { path: result.path, bytes: result.bytes, durationMs: Math.round(result.durationMs * 10) / 10 };
    },
  );

  app.get<{ Querystring: Static<typeof AuditQuery> }>(
    '/v1/admin/audit',
    {
      schema: {
        tags: ['operations'],
        summary: 'The audit log: sweeps, restores, start-up fallbacks, imports and resets',
        querystring: AuditQuery,
        response: { 200: AuditAnswer, ...problemResponses(400, 401, 503) },
      },
    },
    async (request) => {
      const events = await readAudit(store, {
        after: request.query.after ?? 0,
        limit: request.query.limit ?? 100,
      });
      return { events: events.map((event) => ({ ...event, at: new Date(event.at).toISOString() })) };
    },
  );
}
