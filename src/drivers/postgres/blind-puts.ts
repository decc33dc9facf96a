/**
 * The one-statement path for batches made only of unconditional puts on distinct keys (saves,
 * catalog entries, whole-document rewrites). Such a put cannot fail on the data it finds, so
 * nothing needs loading: one upsert computes each version from the stored row and NOTIFYs, as a
 * single statement (atomic on its own, no BEGIN or COMMIT), the same shape as a bare postgres.js
 * upsert. Everything else takes the load-plan-write path.
 */

import { compareCodePoints } from '../../engine/board-sort-key.js';
import type { PreparedCommit, PreparedPut } from '../../engine/driver.js';
import { parseStoredJson } from '../../engine/json.js';
import type { CommitResult } from '../../engine/types.js';
import { type ChangeRef, documentKey } from './batch-types.js';
import type { Sql, Tables } from './postgres-client.js';

/** The puts of a batch that qualifies, in commit order, or `undefined` when it does not. */
export function blindPutsOf(batch: readonly PreparedCommit[]): PreparedPut[] | undefined {
  const puts: PreparedPut[] = [];
  const seen = new Set<string>();
  for (const commit of batch) {
    for (const op of commit.ops) {
      // Conditions can fail, and a key written twice needs the first write's outcome: plan those.
      if (op.op !== 'put' || op.expectedVersion !== undefined || op.mustNotExist !== undefined)
        return undefined;
      const id = documentKey(op.collection, op.key);
      if (seen.has(id)) return undefined;
      seen.add(id);
      puts.push(op);
    }
  }
  return puts;
}

/** What other instances hear about a blind batch: every key it wrote. */
export function blindChanges(puts: readonly PreparedPut[]): ChangeRef[] {
  return puts.map((put) => ({ kind: 'document', collection: put.collection, key: put.key }));
}

interface UpsertRow {
  readonly collection: string;
  readonly key: string;
  readonly version: number;
  readonly createdAt: number;
}

/** Writes the batch with one statement and builds each commit's result from the returned rows. */
export async function applyBlindPuts(
  sql: Sql,
  tables: Tables,
  batch: readonly PreparedCommit[],
  notification: { readonly channel: string; readonly payloads: readonly string[] },
): Promise<CommitResult[]> {
  const rows: Array<{ readonly put: PreparedPut; readonly at: number }> = [];
  for (const commit of batch)
    for (const op of commit.ops) rows.push({ put: op as PreparedPut, at: commit.at });
  // Key order, as every batch takes its locks, so that concurrent batches never deadlock.
  rows.sort(
    (a, b) =>
      compareCodePoints(a.put.collection, b.put.collection) || compareCodePoints(a.put.key, b.put.key),
  );
  // A live row gets version + 1 and keeps createdAt; an expired one starts again at version 1.
  // `notified` is referenced, so its pg_notify calls run, in the statement's own transaction.
  const written = await sql<UpsertRow[]>`
    WITH written AS (
      INSERT INTO ${tables.documents} AS d (collection, key, value, version, created_at, updated_at, expires_at)
      SELECT u.collection, u.key, u.value::json, 1, u.at, u.at, u.expires_at
      FROM unnest(
        ${rows.map((r) => r.put.collection)}::text[],
        ${rows.map((r) => r.put.key)}::text[],
        ${rows.map((r) => r.put.json)}::text[],
        ${rows.map((r) => r.at)}::float8[],
        ${rows.map((r) => r.put.expiresAt)}::float8[]
      ) AS u(collection, key, value, at, expires_at)
      ON CONFLICT (collection, key) DO UPDATE SET
        value = EXCLUDED.value,
        version = CASE WHEN d.expires_at IS NULL OR d.expires_at > EXCLUDED.updated_at
          THEN d.version + 1 ELSE 1 END,
        created_at = CASE WHEN d.expires_at IS NULL OR d.expires_at > EXCLUDED.updated_at
          THEN d.created_at ELSE EXCLUDED.created_at END,
        updated_at = EXCLUDED.updated_at,
        expires_at = EXCLUDED.expires_at
      RETURNING d.collection, d.key, d.version, d.created_at
    ),
    notified AS (
      SELECT pg_notify(${notification.channel}, payload)
      FROM unnest(${notification.payloads as string[]}::text[]) AS payload
    )
    SELECT collection, key, version, created_at AS "createdAt"
    FROM written, (SELECT count(*) FROM notified) AS notifications`;
  const byKey = new Map(written.map((row) => [documentKey(row.collection, row.key), row]));
  return batch.map((commit) => ({
    at: commit.at,
    results: commit.ops.map((op) => {
      const put = op as PreparedPut;
      const row = byKey.get(documentKey(put.collection, put.key));
      if (row === undefined) throw new Error(`The upsert returned no row for ${put.collection}/${put.key}`);
      return {
        op: 'put' as const,
        document: {
          collection: put.collection,
          key: put.key,
          value: parseStoredJson(put.json, `${put.collection}/${put.key}`),
          version: row.version,
          createdAt: row.createdAt,
          updatedAt: commit.at,
          expiresAt: put.expiresAt,
        },
        created: row.version === 1,
      };
    }),
  }));
}
