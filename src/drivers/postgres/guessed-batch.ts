/**
 * A batch in one round trip, when this instance already knows every row it touches.
 *
 * The usual path loads and locks the rows (round trip 1), plans in memory, then writes and commits
 * (round trip 2). But the plan depends only on the rows as loaded. When `row-images.ts` holds an
 * image of each one, the batch is planned against those images first and sent at once, as ONE
 * statement (a statement is its own transaction: no BEGIN, no COMMIT):
 *
 *   WITH checked_documents (lock, compare), checked_streams (lock, compare), the writes, NOTIFY
 *
 * or, when the batch empties or drops streams, as one pipeline: BEGIN; the checks; the writes;
 * NOTIFY; COMMIT.
 *
 * Each check locks its rows (in the order the usual load takes them, so batches still queue
 * instead of deadlocking) and compares them with the images: every field the planner reads, the
 * value too when some op patches it, and that a row guessed absent is still absent. If anything
 * differs, the check raises: the statement writes nothing (in a pipeline, PostgreSQL skips the rest
 * and COMMIT rolls back), and the batch runs the usual way. If nothing differs, the rows the writes
 * change are exactly those the plan ran against, so the outcome (conditions included: a failed
 * `expectedVersion` fails with the same error, its neighbours apply) is the one the usual path
 * gives, and the NOTIFY carries the same changes.
 *
 * A document this instance never saw is guessed absent when only puts write it (a new key: a game's
 * next history entry, an idempotency record); the check verifies that too.
 *
 * Boards are never guessed: their rank blocks may need splitting, which needs a round trip anyway.
 * Neither are streams this instance has not seen, which need a fresh id from the sequence.
 */
import type postgres from 'postgres';
import type { BatchPlan, BatchTargets, LoadedDocument, LoadedState, LoadedStream } from './batch-types.js';
import { documentStatements, type Statement, streamStatements } from './batch-write.js';
import type { Sql, Tables } from './postgres-client.js';
import type { RowImages } from './row-images.js';

const BOOL_OID = 16;

/** A query not started yet: a statement of a pipeline, or a fragment of a larger one. */
type Query = postgres.PendingQuery<postgres.Row[]>;

/** A document target as guessed: the image, or absent. */
interface GuessedDocument {
  readonly collection: string;
  readonly key: string;
  readonly image: LoadedDocument | null;
  /** Some op patches it: its value must be the one the plan read. */
  readonly needsValue: boolean;
}

/** The rows a batch would load, made up from images; `undefined` when it cannot be guessed. */
export interface Guess {
  readonly state: LoadedState;
  readonly documents: readonly GuessedDocument[];
  readonly streams: readonly LoadedStream[];
}

export function guessBatch(targets: BatchTargets, images: RowImages): Guess | undefined {
  if (targets.boards.size > 0) return undefined;
  const documents: GuessedDocument[] = [];
  const loadedDocuments = new Map<string, LoadedDocument>();
  for (const [id, target] of targets.documents) {
    // A row never seen is guessed absent when only puts write it: the check finds it if it exists,
    // and the batch then runs the usual way (one round trip lost, nothing written twice).
    const image = images.document(target.collection, target.key) ?? (target.onlyPuts ? null : undefined);
    if (image === undefined) return undefined;
    if (image !== null) {
      if (target.needsValue && image.json === null) return undefined;
      loadedDocuments.set(id, image);
    }
    documents.push({ collection: target.collection, key: target.key, image, needsValue: target.needsValue });
  }
  const streams: LoadedStream[] = [];
  for (const name of targets.streams) {
    const image = images.stream(name);
    if (image === undefined) return undefined;
    streams.push(image);
  }
  return {
    state: {
      documents: loadedDocuments,
      streams: new Map(streams.map((stream) => [stream.name, stream])),
      boards: new Map(),
      entries: new Map(),
      freshStreamIds: [],
      freshBoardIds: [],
    },
    documents,
    streams,
  };
}

/** Locks the guessed documents in key order and raises unless they are exactly as guessed. */
function documentCheck(tx: Sql, tables: Tables, documents: readonly GuessedDocument[]): Query {
  const present = documents.filter((d) => d.image !== null).length;
  // A row guessed absent matches nothing (`present` is false), so finding it fails the count.
  return tx`
    SELECT ${tables.expectRowsUnchanged}(
      count(*) = ${present} AND count(*) FILTER (WHERE locked.same) = ${present}
    ) AS ok
    FROM (
      SELECT u.present
             AND d.version = u.version AND d.created_at = u.created_at AND d.updated_at = u.updated_at
             AND d.expires_at IS NOT DISTINCT FROM u.expires_at
             AND (u.value IS NULL OR d.value::text = u.value) AS same
      FROM ${tables.documents} d
      JOIN unnest(
        ${documents.map((d) => d.collection)}::text[],
        ${documents.map((d) => d.key)}::text[],
        ${tx.array(
          documents.map((d) => d.image !== null),
          BOOL_OID,
        )}::bool[],
        ${documents.map((d) => d.image?.version ?? null)}::int8[],
        ${documents.map((d) => d.image?.createdAt ?? null)}::float8[],
        ${documents.map((d) => d.image?.updatedAt ?? null)}::float8[],
        ${documents.map((d) => d.image?.expiresAt ?? null)}::float8[],
        ${documents.map((d) => (d.needsValue ? (d.image?.json ?? null) : null))}::text[]
      ) AS u(collection, key, present, version, created_at, updated_at, expires_at, value)
        ON d.collection = u.collection AND d.key = u.key
      ORDER BY d.collection, d.key
      FOR UPDATE OF d
    ) AS locked`;
}

/** Locks the guessed streams in name order (after `after`, if given) and raises unless they are as guessed. */
function streamCheck(
  tx: Sql,
  tables: Tables,
  streams: readonly LoadedStream[],
  after: postgres.Fragment = tx``,
): Query {
  return tx`
    SELECT ${tables.expectRowsUnchanged}(
      count(*) = ${streams.length} AND count(*) FILTER (WHERE locked.same) = ${streams.length}
    ) AS ok
    FROM (
      SELECT s.id = u.id AND s.head = u.head AND s.expires_at IS NOT DISTINCT FROM u.expires_at AS same
      FROM ${tables.streams} s
      JOIN unnest(
        ${streams.map((s) => s.name)}::text[],
        ${streams.map((s) => s.id)}::int8[],
        ${streams.map((s) => s.head)}::int8[],
        ${streams.map((s) => s.expiresAt)}::float8[]
      ) AS u(name, id, head, expires_at)
        ON s.name = u.name
      ${after}
      ORDER BY s.name
      FOR UPDATE OF s
    ) AS locked`;
}

/**
 * The checks as statements of a pipeline, not started yet: each locks its rows in the usual order
 * and calls `expect_rows_unchanged`, which raises `ROWS_CHANGED_STATE` when they are not as guessed.
 */
export function checkStatements(tx: Sql, tables: Tables, guess: Guess): Statement[] {
  const statements: Statement[] = [];
  if (guess.documents.length > 0) statements.push(documentCheck(tx, tables, guess.documents));
  if (guess.streams.length > 0) statements.push(streamCheck(tx, tables, guess.streams));
  return statements;
}

/** Keeps one statement's array parameters well under PostgreSQL's 1 GB limit per value. */
const MAX_SINGLE_STATEMENT_CHARS = 32 * 1024 * 1024;

/**
 * The whole guessed batch as ONE statement (no BEGIN, no COMMIT: a statement is its own
 * transaction): the checks, then every write and the NOTIFY, each held back by a reference to the
 * checks' result, so nothing is written before they passed, and if one raises, the statement
 * writes nothing. `undefined` when the plan needs a pipeline instead: it empties or drops streams
 * (a DELETE and an INSERT of the same events cannot share one statement, which sees a single
 * snapshot) or is too large for one statement.
 */
export function singleStatement(
  sql: Sql,
  tables: Tables,
  guess: Guess,
  plan: BatchPlan,
  notification: { readonly channel: string; readonly payloads: readonly string[] },
): Statement | undefined {
  const { streams, documents } = plan;
  if (streams.inserts.length > 0 || streams.clears.length > 0 || streams.drops.length > 0) return undefined;
  let chars = 0;
  for (const row of documents.updates) chars += row.json.length;
  for (const row of documents.inserts) chars += row.json.length;
  for (const event of streams.events) chars += event.json.length + event.type.length;
  if (chars > MAX_SINGLE_STATEMENT_CHARS) return undefined;
  const gate = { and: sql`AND (SELECT ok FROM checked)`, where: sql`WHERE (SELECT ok FROM checked)` };
  const writes = [
    ...documentStatements(sql, tables, plan, gate),
    ...streamStatements(sql, tables, plan, gate),
  ];
  const documentsChecked =
    guess.documents.length > 0 ? documentCheck(sql, tables, guess.documents) : sql`SELECT true AS ok`;
  // Streams are locked after documents, as every batch locks them, so batches never deadlock.
  const streamsChecked =
    guess.streams.length > 0
      ? streamCheck(sql, tables, guess.streams, sql`WHERE (SELECT ok FROM checked_documents)`)
      : sql`SELECT true AS ok`;
  // An empty list would be sent as an (empty array) parameter, not as no SQL at all.
  const withWrites =
    writes.length === 0
      ? sql``
      : writes.map((write, i) => sql`${sql(`write_${i}`)} AS (${write as postgres.Fragment}),`);
  return sql`
    WITH checked_documents AS MATERIALIZED (${documentsChecked}),
    checked_streams AS MATERIALIZED (${streamsChecked}),
    checked AS MATERIALIZED (
      SELECT (SELECT ok FROM checked_documents) AND (SELECT ok FROM checked_streams) AS ok
    ),
    ${withWrites}
    notified AS (
      SELECT pg_notify(${notification.channel}, payload)
      FROM unnest(${notification.payloads as string[]}::text[]) AS payload
      WHERE (SELECT ok FROM checked)
    )
    SELECT (SELECT ok FROM checked) AS ok, (SELECT count(*) FROM notified) AS notified`;
}
