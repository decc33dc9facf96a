/**
 * The audit log (docs/api.md#operations, `GET /v1/admin/audit`): sweeps, restores, start-up fallbacks, imports and resets
 * append an entry to the stream `audit`, so an operator can see afterwards what removed or replaced
 * data, and when. Read it with `GET /v1/admin/audit?after=N&limit=M`.
 *
 * The log is about the store, not part of its data: `savepoint import` and `savepoint migrate`
 * neither count its entries when they require an empty target nor drop them when they load one
 * (see `ImportOptions.keepStream`), so recording a rejected import never blocks the next attempt.
 */
import type { ImportCounts } from './engine/driver.js';
import type { Store } from './engine/store.js';
import type { JsonObject, StreamEvent } from './engine/types.js';

/** The stream that holds the audit log. */
export const AUDIT_STREAM = 'audit';

/**
 * What happened. Other values are allowed; these are the ones Savepoint writes:
 * `sweep` (expired records removed: counts by collection), `recovery` (a fallback taken at start),
 * `restore` (a backup copied in), `backup`, `import` and `import-rejected` (`savepoint import`),
 * `migrate` and `migrate-rejected` (on the target of `savepoint migrate`), `rankings-reset`,
 * `stats-reset`, `catalog-rollback` (a catalog kind's older version made current again).
 */
export type AuditType =
  | 'sweep'
  | 'recovery'
  | 'restore'
  | 'backup'
  | 'import'
  | 'import-rejected'
  | 'migrate'
  | 'migrate-rejected'
  | 'rankings-reset'
  | 'stats-reset'
  | 'catalog-rollback'
  | (string & {});

/** One audit entry: `seq` orders them, `at` is the commit time (ms since the epoch). */
export type AuditEvent = StreamEvent;

/**
 * Appends one entry to the audit log and resolves with its seq. The entry is its own commit, made
 * after the action it records (an audit failure never undoes the action; callers that must not
 * fail because of it catch the rejection).
 */
export async function appendAudit(store: Store, type: AuditType, data: JsonObject): Promise<number> {
  const result = await store.commit([{ op: 'append', stream: AUDIT_STREAM, events: [{ type, data }] }]);
  const appended = result.results[0];
  return appended !== undefined && appended.op === 'append' ? appended.lastSeq : 0;
}

/** Entries with `seq > after`, oldest first, at most `limit` (default 100, at most 1000). */
export async function readAudit(
  store: Store,
  options: { readonly after?: number; readonly limit?: number } = {},
): Promise<AuditEvent[]> {
  return store.readStream(AUDIT_STREAM, { after: options.after ?? 0, limit: options.limit ?? 100 });
}

/**
 * The store's live records outside the audit log: what makes it non-empty for import and migrate.
 * Two reads, not one snapshot, and lenient where they cannot tell (an audit stream without events
 * and an empty stream of another name look alike): it serves a quick refusal before a long file is
 * verified, and the import's own check, in its transaction, decides.
 */
export async function countOutsideAudit(
  store: Store,
  options: { readonly now?: number } = {},
): Promise<ImportCounts> {
  const [counts, head] = await Promise.all([store.countRecords(options), store.streamHead(AUDIT_STREAM)]);
  return {
    ...counts,
    streams: Math.max(0, counts.streams - 1),
    events: Math.max(0, counts.events - head),
  };
}
