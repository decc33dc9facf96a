/**
 * Cross-instance change feed over LISTEN/NOTIFY. Each batch's transaction NOTIFYs a compact list of
 * what it changed (document keys, stream seq ranges, board names) on one channel per schema;
 * listeners on other instances read the current records back and hear them as `Change`s. Without
 * Redis, this is what lets an SSE subscriber on instance B hear events committed on instance A.
 *
 * Payloads carry references, not values: a NOTIFY payload must stay under 8000 bytes, while values
 * reach 16 MiB. Stream events are read back by seq, so they arrive exactly as committed; documents
 * are read back as they are now (a later change may already show), which is what caches want.
 */
import { createHash } from 'node:crypto';
import type { Change, ExternalChangeListener } from '../../engine/driver.js';
import type { StoredDocument, StreamEvent } from '../../engine/types.js';
import type { ChangeRef } from './batch-types.js';
import type { Sql } from './postgres-client.js';

/** PostgreSQL refuses payloads of 8000 bytes or more; this leaves room for the envelope. */
export const PAYLOAD_LIMIT_BYTES = 7900;
/** A batch that needs more notifications than this sends one `unknown` notice instead. */
export const MAX_PAYLOADS_PER_BATCH = 16;

/** On the wire: `d` document, `s` stream events (first..last seq), `x` stream deleted, `b` board. */
type WireRef =
  | readonly ['d', string, string]
  | readonly ['s', string, number, number]
  | readonly ['x', string]
  | readonly ['b', string];

interface WirePayload {
  /** Sending instance, so an instance ignores its own notifications. */
  readonly i: string;
  /** The commit time the references are read back at (expiry is judged at it). */
  readonly at: number;
  readonly c?: readonly WireRef[];
  /** Set when the changes did not fit: listeners must assume anything changed. */
  readonly u?: 1;
}

/** The NOTIFY channel of a schema (channel names are limited to 63 bytes). */
export function channelFor(schema: string): string {
  const channel = `savepoint:${schema}`;
  return channel.length <= 63
    ? channel
    : `savepoint:${createHash('sha256').update(schema).digest('hex').slice(0, 32)}`;
}

/** Drops repeated references and joins adjacent seq ranges of one stream. */
function compact(refs: readonly ChangeRef[]): WireRef[] {
  const wire: WireRef[] = [];
  const seen = new Set<string>();
  const openRange = new Map<string, number>();
  for (const ref of refs) {
    switch (ref.kind) {
      case 'document': {
        const id = `d\u0000${ref.collection}\u0000${ref.key}`;
        if (!seen.has(id)) wire.push(['d', ref.collection, ref.key]);
        seen.add(id);
        break;
      }
      case 'stream': {
        const index = openRange.get(ref.stream);
        const previous = index === undefined ? undefined : wire[index];
        if (index !== undefined && previous?.[0] === 's' && previous[3] + 1 === ref.firstSeq) {
          wire[index] = ['s', ref.stream, previous[2], ref.lastSeq];
        } else {
          openRange.set(ref.stream, wire.length);
          wire.push(['s', ref.stream, ref.firstSeq, ref.lastSeq]);
        }
        break;
      }
      case 'streamDeleted':
        openRange.delete(ref.stream);
        wire.push(['x', ref.stream]);
        break;
      case 'board': {
        const id = `b\u0000${ref.board}`;
        if (!seen.has(id)) wire.push(['b', ref.board]);
        seen.add(id);
        break;
      }
    }
  }
  return wire;
}

/**
 * The NOTIFY payloads for a batch's changes: as many as needed to stay under
 * {@link PAYLOAD_LIMIT_BYTES} each, or a single `unknown` notice when that would take more than
 * {@link MAX_PAYLOADS_PER_BATCH}.
 */
export function encodeChanges(instanceId: string, at: number, refs: readonly ChangeRef[]): string[] {
  if (refs.length === 0) return [];
  const envelope = (items: string[]): string =>
    `{"i":${JSON.stringify(instanceId)},"at":${at},"c":[${items.join(',')}]}`;
  const envelopeBytes = Buffer.byteLength(envelope([]));
  const payloads: string[] = [];
  let items: string[] = [];
  let bytes = envelopeBytes;
  for (const ref of compact(refs)) {
    const item = JSON.stringify(ref);
    const itemBytes = Buffer.byteLength(item) + 1;
    if (items.length > 0 && bytes + itemBytes > PAYLOAD_LIMIT_BYTES) {
      payloads.push(envelope(items));
      items = [];
      bytes = envelopeBytes;
    }
    items.push(item);
    bytes += itemBytes;
  }
  payloads.push(envelope(items));
  if (
    payloads.length > MAX_PAYLOADS_PER_BATCH ||
    payloads.some((payload) => Buffer.byteLength(payload) > PAYLOAD_LIMIT_BYTES)
  ) {
    return [JSON.stringify({ i: instanceId, at, u: 1 } satisfies WirePayload)];
  }
  return payloads;
}

function decode(text: string): WirePayload | undefined {
  try {
    const payload = JSON.parse(text) as WirePayload;
    return typeof payload === 'object' && payload !== null && typeof payload.i === 'string'
      ? payload
      : undefined;
  } catch {
    return undefined;
  }
}

/** The reads the feed needs to turn references back into changes (the driver provides them). */
export interface ChangeReader {
  getDocuments(collection: string, keys: readonly string[], now: number): Promise<StoredDocument[]>;
  readStream(stream: string, after: number, limit: number, now: number): Promise<StreamEvent[]>;
}

async function resolve(reader: ChangeReader, payload: WirePayload): Promise<Change[]> {
  if (payload.u === 1 || payload.c === undefined) return [{ kind: 'unknown' }];
  const refs = payload.c;
  const keysByCollection = new Map<string, string[]>();
  for (const ref of refs) {
    if (ref[0] !== 'd') continue;
    const keys = keysByCollection.get(ref[1]);
    if (keys === undefined) keysByCollection.set(ref[1], [ref[2]]);
    else keys.push(ref[2]);
  }
  const documents = new Map<string, StoredDocument>();
  await Promise.all(
    [...keysByCollection].map(async ([collection, keys]) => {
      for (const document of await reader.getDocuments(collection, keys, payload.at)) {
        documents.set(`${collection}\u0000${document.key}`, document);
      }
    }),
  );
  const changes: Change[] = [];
  for (const ref of refs) {
    switch (ref[0]) {
      case 'd':
        changes.push({
          kind: 'document',
          collection: ref[1],
          key: ref[2],
          document: documents.get(`${ref[1]}\u0000${ref[2]}`) ?? null,
        });
        break;
      case 's': {
        const events = await reader.readStream(ref[1], ref[2] - 1, ref[3] - ref[2] + 1, payload.at);
        // None left means the stream was deleted or expired since; its deletion notice follows.
        if (events.length > 0) changes.push({ kind: 'stream', stream: ref[1], events });
        break;
      }
      case 'x':
        changes.push({ kind: 'streamDeleted', stream: ref[1] });
        break;
      case 'b':
        changes.push({ kind: 'board', board: ref[1] });
        break;
    }
  }
  return changes;
}

/** The references of a payload, or `undefined` when it says anything may have changed. */
function refsOf(payload: WirePayload): ChangeRef[] | undefined {
  if (payload.u === 1 || payload.c === undefined) return undefined;
  return payload.c.map((ref): ChangeRef => {
    switch (ref[0]) {
      case 'd':
        return { kind: 'document', collection: ref[1], key: ref[2] };
      case 's':
        return { kind: 'stream', stream: ref[1], firstSeq: ref[2], lastSeq: ref[3] };
      case 'x':
        return { kind: 'streamDeleted', stream: ref[1] };
      default:
        return { kind: 'board', board: ref[1] };
    }
  });
}

/** Told at once, before any read-back, what another instance changed (`undefined`: maybe anything). */
export type ForeignChangeHook = (changes: readonly ChangeRef[] | undefined) => void;

const RETRY_LISTEN_MS = 1000;

/**
 * Listens on a schema's channel while anyone subscribes, and hands other instances' changes to the
 * subscribers in commit order. After the listening connection is lost and comes back, subscribers
 * hear one `unknown` change, since notifications sent meanwhile are gone.
 */
export class ExternalChangeFeed {
  readonly #sql: Sql;
  readonly #channel: string;
  readonly #instanceId: string;
  readonly #reader: ChangeReader;
  readonly #heard: ForeignChangeHook;
  readonly #listeners = new Set<ExternalChangeListener>();
  #listening: Promise<{ unlisten(): Promise<void> } | undefined> | undefined;
  #retryTimer: NodeJS.Timeout | undefined;
  /** Notifications are resolved one after another, so listeners hear them in commit order. */
  #queue: Promise<void> = Promise.resolve();
  #closed = false;

  constructor(
    sql: Sql,
    channel: string,
    instanceId: string,
    reader: ChangeReader,
    heard: ForeignChangeHook = () => {},
  ) {
    this.#sql = sql;
    this.#channel = channel;
    this.#instanceId = instanceId;
    this.#reader = reader;
    this.#heard = heard;
  }

  subscribe(listener: ExternalChangeListener): () => void {
    this.#listeners.add(listener);
    this.#start();
    return () => {
      this.#listeners.delete(listener);
      if (this.#listeners.size === 0) void this.#stop();
    };
  }

  /**
   * Stops delivering. The LISTEN connection itself closes with the pool (`sql.end()`), which
   * cannot hang on an UNLISTEN sent to a database that has gone away.
   */
  close(): void {
    this.#closed = true;
    this.#listeners.clear();
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
  }

  #start(): void {
    if (this.#listening !== undefined || this.#closed) return;
    let connections = 0;
    const listening = this.#sql
      .listen(
        this.#channel,
        (payload) => this.#receive(payload),
        () => {
          // Called on every (re)connect; after the first, notifications may have been missed.
          if (connections++ > 0) {
            this.#heard(undefined);
            this.#emit([{ kind: 'unknown' }]);
          }
        },
      )
      .then(
        (meta) => meta,
        () => {
          // The database is unreachable right now: try again while anyone listens.
          if (this.#listening === listening) this.#listening = undefined;
          if (!this.#closed && this.#listeners.size > 0 && this.#retryTimer === undefined) {
            this.#retryTimer = setTimeout(() => {
              this.#retryTimer = undefined;
              if (this.#listeners.size > 0) this.#start();
            }, RETRY_LISTEN_MS);
            this.#retryTimer.unref();
          }
          return undefined;
        },
      );
    this.#listening = listening;
  }

  async #stop(): Promise<void> {
    if (this.#retryTimer !== undefined) clearTimeout(this.#retryTimer);
    this.#retryTimer = undefined;
    const listening = this.#listening;
    this.#listening = undefined;
    const meta = await listening;
    await meta?.unlisten().catch(() => undefined);
  }

  #receive(text: string): void {
    const payload = decode(text);
    if (payload === undefined || payload.i === this.#instanceId) return;
    this.#heard(refsOf(payload));
    this.#queue = this.#queue.then(async () => {
      if (this.#closed || this.#listeners.size === 0) return;
      let changes: Change[];
      try {
        changes = await resolve(this.#reader, payload);
      } catch {
        // The records could not be read back: tell listeners to drop what they hold.
        changes = [{ kind: 'unknown' }];
      }
      if (changes.length > 0) this.#emit(changes);
    });
  }

  #emit(changes: readonly Change[]): void {
    for (const listener of this.#listeners) {
      try {
        listener(changes);
      } catch {
        // A listener's failure is its own; the others still hear the change.
      }
    }
  }
}
