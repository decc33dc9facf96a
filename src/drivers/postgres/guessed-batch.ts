/**
 * A batch in one round trip, when this instance already knows every row it touches.
 *
 * The usual path loads and locks the rows (round trip 1), plans in memory, then writes and commits
 * (round trip 2). But the plan depends only on the rows as loaded. When `row-images.ts` holds an
 * image of each one, the batch is planned against those images first, and sent as one pipeline:
 *
 *   BEGIN; check documents; check streams; the writes; NOTIFY; COMMIT
 *
 * Each check locks its rows (in the order the usual load takes them, so batches still queue
 * instead of deadlocking) and compares them with the images: every field the planner reads, the
 * value too when some op patches it, and that a row guessed absent is still absent. If anything
 * differs, the check raises, PostgreSQL skips the rest of the transaction and COMMIT rolls it back:
 * nothing is written, and the batch runs the usual way. If nothing differs, the rows the writes
 * change are exactly those the plan ran against, so the outcome (conditions included: a failed
 * `expectedVersion` fails with the same error, its neighbours apply) is the one the usual path
 * gives, and the NOTIFY carries the same changes.
 *
 * Boards are never guessed: their rank blocks may need splitting, which needs a round trip anyway.
 * Neither are streams this instance has not seen, which need a fresh id from the sequence.
 */
import type { BatchTargets, LoadedDocument, LoadedState, LoadedStream } from './batch-types.js';
import type { Statement } from './batch-write.js';
import type { Sql, Tables } from './postgres-client.js';
import type { RowImages } from './row-images.js';

const BOOL_OID = 16;

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
    const image = images.document(target.collection, target.key);
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

/**
 * The checks, not started yet: each locks its rows in the usual order and calls
 * `expect_rows_unchanged`, which raises `ROWS_CHANGED_STATE` when they are not as guessed.
 */
export function checkStatements(tx: Sql, tables: Tables, guess: Guess): Statement[] {
  const statements: Statement[] = [];
  const documents = guess.documents;
  if (documents.length > 0) {
    const present = documents.filter((d) => d.image !== null).length;
    // A row guessed absent matches nothing (`present` is false), so finding it fails the count.
    statements.push(tx`
      SELECT ${tables.expectRowsUnchanged}(
        count(*) = ${present} AND count(*) FILTER (WHERE locked.same) = ${present}
      )
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
      ) AS locked`);
  }
  const streams = guess.streams;
  if (streams.length > 0) {
    statements.push(tx`
      SELECT ${tables.expectRowsUnchanged}(
        count(*) = ${streams.length} AND count(*) FILTER (WHERE locked.same) = ${streams.length}
      )
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
        ORDER BY s.name
        FOR UPDATE OF s
      ) AS locked`);
  }
  return statements;
}
