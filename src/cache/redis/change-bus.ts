/**
 * The cross-instance bus: a subscription to `<prefix>:changes` (every instance's commits) and to
 * this instance's own ack channel, on a dedicated connection.
 *
 * The bus is "live" from the moment its subscription is confirmed until its connection drops.
 * Messages published while it is not live are lost, so the layer trusts its L1 only while the
 * bus is live, and clears it (and tells its listeners `unknown`) when the bus comes back.
 *
 * The bus also carries heartbeats, which give this instance a lease on its L1 and tell it which
 * other instances' acknowledgements a commit must wait for, and for how long at most
 * (heartbeats.ts has the argument).
 */
import type { Redis } from 'ioredis';
import type { Change } from '../../engine/driver.js';
import { type BusMessage, decodeBusFrame, encodeHeartbeat, type Heartbeat } from './bus-message.js';
import { Heartbeats } from './heartbeats.js';
import { asError } from './redis-connections.js';
import type { RedisKeys } from './redis-keys.js';

export interface ChangeBusHandlers {
  /** A message from another instance, handled before it is acknowledged. */
  onMessage(message: BusMessage): void;
  /** The subscription is confirmed; `resumed` when an earlier one had been lost. */
  onLive(resumed: boolean): void;
  /** The subscription was lost: messages may be missed until `onLive`. */
  onLost(): void;
  report(error: Error, context: string): void;
}

/** How waiting for a message's acknowledgements ended. */
export interface AckOutcome {
  /** Instances whose lease ran out before they acknowledged (they serve no L1 until they catch up). */
  readonly late: readonly string[];
  /** Whether the message came back to this instance's own subscription before waiting ended. */
  readonly echoed: boolean;
}

interface AckWaiter {
  readonly acked: Set<string>;
  echoed: boolean;
  /** Whom to wait for and until when, taken when the message came back; `undefined`: not known. */
  awaited: Map<string, number> | undefined;
  /** When waiting ends regardless (see Heartbeats.fallbackDeadline); +∞ until published. */
  fallbackAt: number;
  resolve?: (outcome: AckOutcome) => void;
  timer?: NodeJS.Timeout;
}

const ALL_ACKNOWLEDGED: AckOutcome = { late: [], echoed: true };

const UNKNOWN_MESSAGE_CHANGES: readonly Change[] = [{ kind: 'unknown' }];

export class ChangeBus {
  readonly #subscriber: Redis;
  readonly #commands: Redis;
  readonly #keys: RedisKeys;
  readonly #instanceId: string;
  readonly #ackChannel: string;
  readonly #handlers: ChangeBusHandlers;
  readonly #waiters = new Map<number, AckWaiter>();
  /** Acknowledgements to send at the end of this turn, by publishing instance. */
  readonly #owedAcks = new Map<string, number[]>();
  readonly #firstAttempt: Promise<void>;
  readonly #heartbeats: Heartbeats | undefined;
  readonly #beatTimer: NodeJS.Timeout | undefined;
  #onFirstLive: () => void = () => {};
  #live = false;
  #everLive = false;
  #closed = false;
  #nextId = 0;

  /**
   * `subscriber` must be a fresh connection used for nothing else; `commands` sends acknowledgements
   * and heartbeats. `leaseMs` 0 sends no heartbeats, trusts the L1 whenever the bus is live, and
   * makes commits wait for nobody.
   */
  constructor(
    subscriber: Redis,
    commands: Redis,
    keys: RedisKeys,
    instanceId: string,
    leaseMs: number,
    handlers: ChangeBusHandlers,
  ) {
    this.#subscriber = subscriber;
    this.#commands = commands;
    this.#keys = keys;
    this.#instanceId = instanceId;
    this.#ackChannel = keys.ackChannel(instanceId);
    this.#handlers = handlers;
    this.#firstAttempt = new Promise<void>((resolve) => {
      subscriber.once('error', () => resolve());
      subscriber.once('end', () => resolve());
      this.#onFirstLive = resolve;
    });
    if (leaseMs > 0) {
      this.#heartbeats = new Heartbeats(leaseMs);
      this.#beatTimer = setInterval(() => this.#beat('alive'), Math.max(1, Math.floor(leaseMs / 4)));
      // A process with nothing else to do must be able to exit.
      this.#beatTimer.unref();
    }
    subscriber.on('ready', () => void this.#subscribe());
    subscriber.on('close', () => this.#lose());
    subscriber.on('message', (channel: string, raw: string) => this.#receive(channel, raw));
    if (subscriber.status === 'ready') void this.#subscribe();
  }

  /** True while the subscription is confirmed and its connection up. */
  get live(): boolean {
    return this.#live;
  }

  /**
   * Settles when the first subscription is confirmed (and, with heartbeats, the first one heard
   * back, so that the L1 serves), fails, or `timeoutMs` passes. Never rejects.
   */
  async started(timeoutMs: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      this.#firstAttempt,
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    clearTimeout(timer);
  }

  /** A new message id, for a message whose acknowledgements nobody awaits. */
  nextId(): number {
    return ++this.#nextId;
  }

  /**
   * Whether this instance may serve its L1 now: the bus is live and, with heartbeats, the newest one
   * it heard back was sent less than a lease ago. Read the clock here, at serve time: after a
   * pause, a request may be handled before the backlog of bus messages that arrived with it.
   */
  current(): boolean {
    if (!this.#live) return false;
    return this.#heartbeats === undefined || this.#heartbeats.current(performance.now());
  }

  /** How many other instances this one has heard within their lease. */
  get peers(): number {
    return this.#heartbeats?.peerCount ?? 0;
  }

  /** A new message id, registered so that acknowledgements arriving early are counted. */
  openMessage(): number {
    const id = this.nextId();
    this.#waiters.set(id, {
      acked: new Set(),
      echoed: false,
      awaited: undefined,
      fallbackAt: Number.POSITIVE_INFINITY,
    });
    return id;
  }

  /**
   * Waits until every instance that may be serving its L1 acknowledged message `id` (opened with
   * {@link openMessage}) or stopped serving it: each for no longer than its lease, and never past
   * a lease after `repliedAt`, when the script that published the message answered.
   */
  awaitAcks(id: number, repliedAt: number): Promise<AckOutcome> {
    const waiter = this.#waiters.get(id);
    if (waiter === undefined || this.#heartbeats === undefined) {
      this.#waiters.delete(id);
      return Promise.resolve(ALL_ACKNOWLEDGED);
    }
    waiter.fallbackAt = this.#heartbeats.fallbackDeadline(repliedAt);
    return new Promise<AckOutcome>((resolve) => {
      waiter.resolve = resolve;
      this.#settle(id);
    });
  }

  /** Forgets message `id` (it was never published). */
  dropMessage(id: number): void {
    this.#waiters.delete(id);
  }

  /** Stops listening and says so to the others; waiting commits stop waiting. The owner closes the connections. */
  close(): void {
    if (this.#live) this.#beat('leaving');
    this.#closed = true;
    this.#live = false;
    clearInterval(this.#beatTimer);
    for (const id of [...this.#waiters.keys()]) this.#finish(id, { late: [], echoed: false });
  }

  async #subscribe(): Promise<void> {
    try {
      await this.#subscriber.subscribe(this.#keys.changes, this.#ackChannel);
    } catch (error) {
      if (this.#closed) return;
      this.#handlers.report(asError(error), 'redis subscribe');
      // Reconnect, so that `ready` tries again; staying connected but unsubscribed would never heal.
      this.#subscriber.disconnect(true);
      return;
    }
    if (this.#closed || this.#live) return;
    const resumed = this.#everLive;
    this.#heartbeats?.subscribed(performance.now());
    this.#live = true;
    this.#everLive = true;
    this.#handlers.onLive(resumed);
    if (this.#heartbeats === undefined) this.#onFirstLive();
    // At once, not a quarter lease later: the L1 serves from the first one heard back.
    else this.#beat('alive');
  }

  #lose(): void {
    if (!this.#live) return;
    this.#live = false;
    this.#heartbeats?.lost();
    this.#handlers.onLost();
  }

  #beat(beat: Heartbeat['beat']): void {
    const heartbeats = this.#heartbeats;
    if (heartbeats === undefined || !this.#live || this.#commands.status !== 'ready') return;
    const id = this.nextId();
    // Noted before the PUBLISH leaves: Redis executes it later, never earlier.
    if (beat === 'alive') heartbeats.sent(id, performance.now());
    const heartbeat = encodeHeartbeat({ beat, from: this.#instanceId, id, leaseMs: heartbeats.leaseMs });
    // A lost heartbeat costs a lapse of the L1, which the next one ends; the connection reports outages.
    this.#commands.publish(this.#keys.changes, heartbeat).catch(() => {});
  }

  #receive(channel: string, raw: string): void {
    if (this.#closed) return;
    if (channel === this.#ackChannel) {
      this.#acknowledged(raw);
      return;
    }
    if (channel !== this.#keys.changes) return;
    let frame: BusMessage | Heartbeat;
    try {
      frame = decodeBusFrame(raw);
    } catch (error) {
      this.#handlers.report(asError(error), 'redis bus message');
      // An unreadable message may have named anything: drop everything, tell listeners to re-read.
      this.#handlers.onMessage({ from: '', id: 0, ack: false, keys: null, changes: UNKNOWN_MESSAGE_CHANGES });
      return;
    }
    if ('beat' in frame) {
      if (frame.from !== this.#instanceId) {
        this.#heartbeats?.heardPeer(frame.from, frame.beat, frame.leaseMs, performance.now());
      } else if (this.#live) {
        this.#heartbeats?.heardOwn(frame.id);
        this.#onFirstLive();
      }
      return;
    }
    if (frame.from === this.#instanceId) {
      this.#echoed(frame.id);
      return;
    }
    this.#handlers.onMessage(frame);
    if (frame.ack) this.#owe(frame.from, frame.id);
  }

  /**
   * Acknowledges message `id` of `from`, together with the others handled in the same turn (a whole
   * socket read): after a pause, thousands of messages cost one PUBLISH per writer, not one each.
   */
  #owe(from: string, id: number): void {
    const owed = this.#owedAcks.get(from);
    if (owed !== undefined) {
      owed.push(id);
      return;
    }
    this.#owedAcks.set(from, [id]);
    if (this.#owedAcks.size === 1) queueMicrotask(() => this.#sendAcks());
  }

  #sendAcks(): void {
    const owed = [...this.#owedAcks];
    this.#owedAcks.clear();
    if (this.#closed || this.#commands.status !== 'ready') return;
    for (const [from, ids] of owed) {
      this.#commands
        .publish(this.#keys.ackChannel(from), JSON.stringify({ from: this.#instanceId, ids }))
        .catch((error: unknown) => this.#handlers.report(asError(error), 'redis bus ack'));
    }
  }

  /** Our own message came back: every heartbeat Redis executed before it has been heard. */
  #echoed(id: number): void {
    const waiter = this.#waiters.get(id);
    if (waiter === undefined || waiter.echoed) return;
    waiter.echoed = true;
    waiter.awaited = this.#live ? this.#heartbeats?.awaited(performance.now()) : undefined;
    this.#settle(id);
  }

  /** `{"from": instance, "ids": [...]}`: that instance handled our messages `ids`. */
  #acknowledged(raw: string): void {
    let ack: { from?: unknown; ids?: unknown };
    try {
      ack = JSON.parse(raw) as { from?: unknown; ids?: unknown };
    } catch {
      return;
    }
    const { from, ids } = ack;
    if (typeof from !== 'string' || !Array.isArray(ids)) return;
    for (const id of ids) {
      const waiter = typeof id === 'number' ? this.#waiters.get(id) : undefined;
      if (waiter === undefined) continue;
      waiter.acked.add(from);
      this.#settle(id as number);
    }
  }

  /** Ends the wait for message `id` if nothing is left to wait for, or sets a timer for the next deadline. */
  #settle(id: number): void {
    const waiter = this.#waiters.get(id);
    if (waiter?.resolve === undefined) return;
    const now = performance.now();
    const expired = now >= waiter.fallbackAt;
    let next = waiter.fallbackAt;
    let pending = waiter.awaited === undefined;
    const late: string[] = [];
    for (const [instance, deadline] of waiter.awaited ?? []) {
      if (waiter.acked.has(instance)) continue;
      if (expired || deadline <= now) late.push(instance);
      else {
        pending = true;
        next = Math.min(next, deadline);
      }
    }
    if (expired || !pending) {
      this.#finish(id, { late, echoed: waiter.echoed });
      return;
    }
    clearTimeout(waiter.timer);
    waiter.timer = setTimeout(() => this.#settle(id), Math.max(0, next - now));
  }

  #finish(id: number, outcome: AckOutcome): void {
    const waiter = this.#waiters.get(id);
    if (waiter === undefined) return;
    this.#waiters.delete(id);
    clearTimeout(waiter.timer);
    waiter.resolve?.(outcome);
  }
}
