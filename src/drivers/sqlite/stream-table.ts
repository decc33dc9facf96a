/**
 * Streams in SQLite: a `streams` row holds each stream's head (its last seq) and expiry. An expired
 * stream reads as empty and is cleared by the next append, so seqs restart at 1 exactly as they
 * would after a sweep.
 *
 * Events live in two tables. Appends go to `recent_events`, in arrival order; once it holds
 * {@link SETTLE_AT} events, {@link StreamTable.settleIfFull} moves them all, sorted by stream, into
 * `events`, keyed by `(stream_id, seq)`. A stream's settled events all come before its recent ones.
 * Why: a group commit appending to a hundred streams would otherwise rewrite the tail page of each
 * of them, and WAL writes cost a system call per page; settling in bulk writes each stream's tail
 * page once per many events.
 *
 * The buffer has no index: an index on `(stream_id, seq)` takes its entries in random order, so a
 * batch of 100 appends dirtied up to ~90 of its pages, more than everything else together (10–12
 * pages). Instead each buffered event links to the one before it in its stream (`prev`, a rowid),
 * and the stream's row names its newest buffered event (`recent_last`), a column the append
 * updates anyway. A read walks that chain back from the newest event (see {@link eventsAfterSql}).
 * Links are never cleared: after a settle empties the buffer (and rowids start again from 1) a
 * link may point at a row that is gone or belongs to another event, so a walk follows a link only
 * to the same stream's previous seq, which is exactly the event it stood for.
 *
 * A walk costs about 1 us per event, and a read from a stream's start walks all its buffered
 * events. So no stream keeps more than {@link MAX_BUFFERED_PER_STREAM} of them: an append that
 * goes past it settles the buffer at the end of its batch, before any reader sees the longer chain.
 */
import type Database from 'better-sqlite3';
import { checkStreamHead } from '../../engine/conditions.js';
import type {
  PreparedAppend,
  PreparedCommit,
  PreparedDeleteStream,
  PreparedExpireStream,
} from '../../engine/driver.js';
import { parseStoredJson } from '../../engine/json.js';
import type { AppendResult, DeleteResult, ExpireStreamResult, StreamEvent } from '../../engine/types.js';

interface StreamRow {
  readonly id: number;
  readonly head: number;
  readonly expires_at: number | null;
  /** Rowid of the stream's newest buffered event; stale (see above) once that event has settled. */
  readonly recent_last: number | null;
  /** Seq of the stream's oldest buffered event, while `recent_last` is not stale. */
  readonly recent_from: number | null;
  /** `head` when `recent_last` is the stream's newest event still in the buffer; otherwise null. */
  readonly buffered_head: number | null;
}

interface EventRow {
  readonly seq: number;
  readonly type: string;
  readonly json: string;
  readonly at: number;
}

const LIVE = '(expires_at IS NULL OR expires_at > ?)';

/**
 * The buffered events of the stream the CTE `stream(id, last)` holds, newest first, back to seq
 * `after` + 1: a recursive walk along `prev`, each step one rowid lookup. A step is taken
 * only to the same stream's previous seq (see the module comment).
 */
const bufferedChain = (after: string) => `
  recent(id, stream_id, prev, seq, type, json, at) AS (
    SELECT r.id, r.stream_id, r.prev, r.seq, r.type, r.data, r.at
      FROM stream JOIN recent_events r ON r.id = stream.last
      WHERE r.stream_id = stream.id AND r.seq > ${after}
    UNION ALL
    SELECT r.id, r.stream_id, r.prev, r.seq, r.type, r.data, r.at
      FROM recent JOIN recent_events r ON r.id = recent.prev
      WHERE r.stream_id = recent.stream_id AND r.seq = recent.seq - 1 AND r.seq > ${after}
  )`;

/**
 * One statement (one snapshot) reading a stream's events with seq > `@after` in seq order, at most
 * `@limit` (-1: all): its settled events by index range, then its buffered ones by their chain.
 * `streamWhere` picks the stream's row in `streams` (at most one), e.g. `id = @id`. The columns are
 * `seq, type, json, at`.
 */
export function eventsAfterSql(streamWhere: string): string {
  return `
    WITH RECURSIVE
      stream(id, last) AS (SELECT id, recent_last FROM streams WHERE ${streamWhere}),
      ${bufferedChain('@after')}
    SELECT seq, type, data AS json, at FROM events WHERE stream_id = (SELECT id FROM stream) AND seq > @after
    UNION ALL
    SELECT seq, type, json, at FROM recent
    ORDER BY seq LIMIT @limit`;
}

/**
 * Buffered events that trigger a settle. A larger buffer writes each stream's tail page for more
 * events at once, but makes the settling commit longer: at 32768, appends of one event to random
 * streams among 1,000 cost 27 WAL pages per 100 events (150 without the buffer, 47 at 8192), and
 * a settle adds about 60 ms to the batch that triggers it.
 */
export const SETTLE_AT = 32_768;

/** Most buffered events one stream may keep between batches (a read walks them; see above). */
export const MAX_BUFFERED_PER_STREAM = 256;

export class StreamTable {
  readonly #select: Database.Statement<[string], StreamRow>;
  readonly #insert: Database.Statement<[string, number, number | null], number>;
  readonly #setHead: Database.Statement<[number, number | null, number | null, number | null, number]>;
  /** Set by an append that took a stream past {@link MAX_BUFFERED_PER_STREAM}: settle at the batch's end. */
  #settleDue = false;
  readonly #insertEvent: Database.Statement<[number, number, number | null, string, string, number]>;
  readonly #deleteEvents: Database.Statement<[number]>;
  readonly #deleteStream: Database.Statement<[number]>;
  readonly #deleteRecentEvents: Database.Statement<[{ id: number }]>;
  readonly #readLive: Database.Statement<
    [{ stream: string; now: number; after: number; limit: number }],
    EventRow
  >;
  readonly #bufferedEvents: Database.Statement<[], number | null>;
  readonly #settle: Database.Statement<[]>;
  readonly #clearBuffer: Database.Statement<[]>;
  readonly #liveHead: Database.Statement<[string, number], number>;
  readonly #expireLive: Database.Statement<[number | null, string, number]>;
  readonly #selectExpired: Database.Statement<[number, number], number>;
  readonly #anyExpired: Database.Statement<[number], number>;

  constructor(db: Database.Database) {
    // The join (one rowid lookup) tells whether the stream's newest event is still buffered.
    this.#select = db.prepare(`
      SELECT s.id, s.head, s.expires_at, s.recent_last, s.recent_from, r.seq AS buffered_head
      FROM streams s LEFT JOIN recent_events r ON r.id = s.recent_last AND r.stream_id = s.id AND r.seq = s.head
      WHERE s.name = ?`);
    this.#insert = db
      .prepare<[string, number, number | null], number>(
        'INSERT INTO streams (name, head, expires_at) VALUES (?, ?, ?) RETURNING id',
      )
      .pluck();
    this.#setHead = db.prepare(
      'UPDATE streams SET head = ?, expires_at = ?, recent_last = ?, recent_from = ? WHERE id = ?',
    );
    this.#insertEvent = db.prepare(
      'INSERT INTO recent_events (stream_id, seq, prev, type, data, at) VALUES (?, ?, ?, ?, ?, ?)',
    );
    this.#deleteEvents = db.prepare('DELETE FROM events WHERE stream_id = ?');
    this.#deleteRecentEvents = db.prepare(`
      WITH RECURSIVE
        stream(id, last) AS (SELECT id, recent_last FROM streams WHERE id = @id),
        ${bufferedChain('0')}
      DELETE FROM recent_events WHERE id IN (SELECT id FROM recent)`);
    this.#deleteStream = db.prepare('DELETE FROM streams WHERE id = ?');
    this.#readLive = db.prepare(
      eventsAfterSql(`name = @stream AND (expires_at IS NULL OR expires_at > @now)`),
    );
    // Rowids count up from 1 after each settle empties the table, so the largest is the buffer's size.
    this.#bufferedEvents = db.prepare<[], number | null>('SELECT MAX(id) FROM recent_events').pluck();
    // The buffer has no index in this order: SQLite sorts it (in memory, a few ms for a full buffer).
    this.#settle = db.prepare(
      'INSERT INTO events SELECT stream_id, seq, type, data, at FROM recent_events ORDER BY stream_id, seq',
    );
    this.#clearBuffer = db.prepare('DELETE FROM recent_events');
    this.#liveHead = db
      .prepare<[string, number], number>(`SELECT head FROM streams WHERE name = ? AND ${LIVE}`)
      .pluck();
    this.#expireLive = db.prepare(`UPDATE streams SET expires_at = ? WHERE name = ? AND ${LIVE}`);
    this.#selectExpired = db
      .prepare<[number, number], number>(
        'SELECT id FROM streams WHERE expires_at <= ? ORDER BY expires_at LIMIT ?',
      )
      .pluck();
    this.#anyExpired = db
      .prepare<[number], number>('SELECT 1 FROM streams WHERE expires_at <= ? LIMIT 1')
      .pluck();
  }

  read(stream: string, after: number, limit: number, now: number): StreamEvent[] {
    return this.#readLive.all({ stream, now, after, limit }).map((row) => ({
      seq: row.seq,
      type: row.type,
      data: parseStoredJson(row.json, `event ${row.seq} of stream ${stream}`),
      at: row.at,
    }));
  }

  head(stream: string, now: number): number {
    return this.#liveHead.get(stream, now) ?? 0;
  }

  /** Appends after the live head; checks `expectedHead` before writing anything. */
  append(op: PreparedAppend, commit: PreparedCommit, opIndex: number): AppendResult {
    const existing = this.#select.get(op.stream);
    const live = existing !== undefined && (existing.expires_at === null || existing.expires_at > commit.at);
    const head = live ? existing.head : 0;
    checkStreamHead(op, head, opIndex);
    const count = op.events.length;
    // An expired stream starts afresh, so its old expiry goes with its events.
    const expiresAt = op.expiresAt !== undefined ? op.expiresAt : live ? existing.expires_at : null;
    let streamId: number;
    if (existing === undefined) {
      streamId = this.#insert.get(op.stream, count, expiresAt) as number;
    } else {
      streamId = existing.id;
      if (!live) this.#clearEvents(streamId);
    }
    // Each event links to the stream's event before it (a stale link is harmless, see above).
    let prev = live ? existing.recent_last : null;
    const buffered = live && existing.buffered_head !== null && existing.recent_from !== null;
    const bufferedFrom = buffered ? (existing.recent_from as number) : head + 1;
    if (head + count - bufferedFrom + 1 > MAX_BUFFERED_PER_STREAM) this.#settleDue = true;
    const events = new Array<StreamEvent>(count);
    for (let index = 0; index < count; index++) {
      const event = op.events[index] as PreparedAppend['events'][number];
      const seq = head + index + 1;
      prev = Number(
        this.#insertEvent.run(streamId, seq, prev, event.type, event.json, commit.at).lastInsertRowid,
      );
      events[index] = { seq, type: event.type, data: event.data, at: commit.at };
    }
    this.#setHead.run(head + count, expiresAt, prev, bufferedFrom, streamId);
    return { op: 'append', stream: op.stream, events, firstSeq: head + 1, lastSeq: head + count };
  }

  /** Sets or clears a live stream's expiry; an expired stream counts as missing. */
  expire(op: PreparedExpireStream, commit: PreparedCommit): ExpireStreamResult {
    return {
      op: 'expireStream',
      found: this.#expireLive.run(op.expiresAt, op.stream, commit.at).changes > 0,
    };
  }

  /** Removes the stream and its events; `deleted` is false for a missing or already expired stream. */
  delete(op: PreparedDeleteStream, commit: PreparedCommit): DeleteResult {
    const existing = this.#select.get(op.stream);
    if (existing === undefined) return { op: 'deleteStream', deleted: false };
    this.#remove(existing.id);
    return {
      op: 'deleteStream',
      deleted: existing.expires_at === null || existing.expires_at > commit.at,
    };
  }

  /** Deletes up to `limit` expired streams with their events; returns how many. */
  sweep(now: number, limit: number): number {
    const expired = this.#selectExpired.all(now, limit);
    for (const id of expired) this.#remove(id);
    return expired.length;
  }

  hasExpired(now: number): boolean {
    return this.#anyExpired.get(now) !== undefined;
  }

  /**
   * Moves buffered events into `events` once there are {@link SETTLE_AT}, or once an append has
   * taken a stream past {@link MAX_BUFFERED_PER_STREAM}; call at the end of a write transaction. Returns whether it did (the commit then writes a few thousand pages to the WAL).
   */
  settleIfFull(): boolean {
    const due = this.#settleDue;
    this.#settleDue = false;
    if (!due && (this.#bufferedEvents.get() ?? 0) < SETTLE_AT) return false;
    this.#settle.run();
    this.#clearBuffer.run();
    return true;
  }

  #remove(id: number): void {
    this.#clearEvents(id);
    this.#deleteStream.run(id);
  }

  #clearEvents(id: number): void {
    this.#deleteEvents.run(id);
    this.#deleteRecentEvents.run({ id });
  }
}
