/**
 * A live feed of one game's events: first everything after a given seq, read from the stream, then
 * each new event as the store's change feed reports it, with no gap and no duplicate across the
 * handover.
 *
 * How the handover stays exact: the feed subscribes to the change feed *before* it reads the
 * replay and buffers what it hears meanwhile. Every event carries its seq, so anything at or
 * below the last seq handed out is dropped, and an event whose seq jumps ahead (a change this
 * process missed, or an `unknown` change from another instance) makes the feed re-read the stream
 * from its last seq instead of skipping.
 */
import type { ChangeBatch, Store } from '../../engine/store.js';
import type { StreamEvent } from '../../engine/types.js';
import { type GameEvent, streamOf, toGameEvent } from './game-record.js';

export interface GameFeedOptions {
  /** Deliver events with `seq > after`. Default 0: the whole log. */
  readonly after?: number;
  /** Ends the feed when aborted (as `return()` does). */
  readonly signal?: AbortSignal;
}

/** Events read per page while catching up. */
const PAGE_SIZE = 1000;

type InboxItem = readonly StreamEvent[] | 'reread' | 'deleted';

type Listener = (item: InboxItem) => void;

/**
 * One change-feed subscription shared by every open feed of a `Games` instance (which owns the hub)
 * and routed by stream name, so a commit costs one map lookup however many players are streaming.
 */
export class FeedHub {
  readonly #store: Store;
  readonly #byStream = new Map<string, Set<Listener>>();
  #unsubscribe: (() => void) | undefined;

  constructor(store: Store) {
    this.#store = store;
  }

  add(stream: string, listener: Listener): () => void {
    let listeners = this.#byStream.get(stream);
    if (listeners === undefined) {
      listeners = new Set();
      this.#byStream.set(stream, listeners);
    }
    listeners.add(listener);
    this.#unsubscribe ??= this.#store.subscribe((batch) => this.#route(batch));
    return () => {
      listeners.delete(listener);
      if (listeners.size === 0) this.#byStream.delete(stream);
      if (this.#byStream.size === 0) {
        this.#unsubscribe?.();
        this.#unsubscribe = undefined;
      }
    };
  }

  #route(batch: ChangeBatch): void {
    for (const change of batch.changes) {
      if (change.kind === 'unknown') {
        // Another instance changed something we cannot see: every feed re-reads from its last seq.
        for (const listeners of this.#byStream.values()) for (const listener of listeners) listener('reread');
        continue;
      }
      if (change.kind !== 'stream' && change.kind !== 'streamDeleted') continue;
      const listeners = this.#byStream.get(change.stream);
      if (listeners === undefined) continue;
      const item: InboxItem = change.kind === 'stream' ? change.events : 'deleted';
      for (const listener of listeners) listener(item);
    }
  }
}

interface Consumer {
  readonly resolve: (result: IteratorResult<GameEvent>) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * An `AsyncIterableIterator` of a game's events. It ends when the consumer breaks out of its
 * `for await` loop or calls `return()`, when the signal aborts, or when the game's stream is
 * deleted. A read failure (storage down, corrupt event) rejects the pending `next()` and ends it.
 * Unlike an async generator, `return()` takes effect even while a `next()` is waiting.
 */
export class GameEventFeed implements AsyncIterableIterator<GameEvent> {
  readonly #store: Store;
  readonly #stream: string;
  readonly #ready: GameEvent[] = [];
  readonly #inbox: InboxItem[] = [];
  readonly #unsubscribe: () => void;
  readonly #signal: AbortSignal | undefined;
  #delivered: number;
  #consumer: Consumer | undefined;
  #wakePump: (() => void) | undefined;
  /** Set when the feed stops producing; `failure` makes the next `next()` reject once. */
  #finished = false;
  #failure: { readonly error: unknown } | undefined;

  constructor(store: Store, hub: FeedHub, gameId: string, options: GameFeedOptions = {}) {
    this.#store = store;
    this.#stream = streamOf(gameId);
    this.#delivered = options.after ?? 0;
    this.#signal = options.signal;
    // Subscribe before the replay is read: whatever commits meanwhile lands in the inbox.
    this.#unsubscribe = hub.add(this.#stream, (item) => this.#hear(item));
    if (options.signal?.aborted) {
      this.#finish();
    } else {
      options.signal?.addEventListener('abort', this.#onAbort, { once: true });
      void this.#pump();
    }
  }

  /** The seq of the last event this feed has queued or delivered. */
  get lastSeq(): number {
    return this.#delivered;
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  next(): Promise<IteratorResult<GameEvent>> {
    const event = this.#ready.shift();
    if (event !== undefined) return Promise.resolve({ value: event, done: false });
    if (this.#failure !== undefined) {
      const { error } = this.#failure;
      this.#failure = undefined;
      return Promise.reject(error);
    }
    if (this.#finished) return Promise.resolve({ value: undefined, done: true });
    if (this.#consumer !== undefined) return Promise.reject(new Error('next() called while one is pending'));
    return new Promise((resolve, reject) => {
      this.#consumer = { resolve, reject };
    });
  }

  /** Stops the feed and unsubscribes; a pending `next()` resolves as done. */
  return(): Promise<IteratorResult<GameEvent>> {
    this.#ready.length = 0;
    this.#failure = undefined;
    this.#finish();
    return Promise.resolve({ value: undefined, done: true });
  }

  readonly #onAbort = (): void => {
    void this.return();
  };

  #hear(item: InboxItem): void {
    this.#inbox.push(item);
    this.#wakePump?.();
  }

  async #pump(): Promise<void> {
    try {
      await this.#catchUp();
      while (!this.#finished) {
        const item = this.#inbox.shift();
        if (item === undefined) {
          await new Promise<void>((resolve) => {
            this.#wakePump = resolve;
          });
          this.#wakePump = undefined;
          continue;
        }
        if (item === 'deleted') {
          this.#finish();
        } else if (item === 'reread') {
          await this.#catchUp();
        } else {
          const fresh = item.filter((event) => event.seq > this.#delivered);
          // One append's events are contiguous, so only the first needs checking for a gap.
          if (fresh[0] === undefined) continue;
          if (fresh[0].seq === this.#delivered + 1) this.#deliver(fresh);
          else await this.#catchUp();
        }
      }
    } catch (error) {
      this.#fail(error);
    }
  }

  /** Reads the stream after the last delivered seq until it runs dry. */
  async #catchUp(): Promise<void> {
    while (!this.#finished) {
      const page = await this.#store.readStream(this.#stream, { after: this.#delivered, limit: PAGE_SIZE });
      if (this.#finished) return;
      this.#deliver(page);
      if (page.length < PAGE_SIZE) return;
    }
  }

  #deliver(events: readonly StreamEvent[]): void {
    for (const event of events) {
      if (event.seq <= this.#delivered) continue;
      this.#delivered = event.seq;
      const gameEvent = toGameEvent(event);
      const consumer = this.#consumer;
      if (consumer !== undefined) {
        this.#consumer = undefined;
        consumer.resolve({ value: gameEvent, done: false });
      } else {
        this.#ready.push(gameEvent);
      }
    }
  }

  #fail(error: unknown): void {
    if (this.#finished) return;
    const consumer = this.#consumer;
    this.#consumer = undefined;
    this.#finish();
    if (consumer !== undefined) consumer.reject(error);
    else this.#failure = { error };
  }

  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#unsubscribe();
    this.#signal?.removeEventListener('abort', this.#onAbort);
    this.#inbox.length = 0;
    this.#wakePump?.();
    const consumer = this.#consumer;
    this.#consumer = undefined;
    // Events already queued stay readable; a waiting consumer has none, so it is done.
    consumer?.resolve({ value: undefined, done: true });
  }
}
