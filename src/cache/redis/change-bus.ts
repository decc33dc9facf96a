/**
 * The cross-instance bus: a subscription to `<prefix>:changes` (every instance's commits) and to
 * this instance's own ack channel, on a dedicated connection.
 *
 * The bus is "live" from the moment its subscription is confirmed until its connection drops.
 * Messages published while it is not live are lost, so the layer trusts its L1 only while the
 * bus is live, and clears it (and tells its listeners `unknown`) when the bus comes back.
 */
import type { Redis } from 'ioredis';
import type { Change } from '../../engine/driver.js';
import { type BusMessage, decodeBusMessage } from './bus-message.js';
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

interface AckWaiter {
  acks: number;
  expected: number;
  resolve?: (all: boolean) => void;
  timer?: NodeJS.Timeout;
}

const UNKNOWN_MESSAGE_CHANGES: readonly Change[] = [{ kind: 'unknown' }];

export class ChangeBus {
  readonly #subscriber: Redis;
  readonly #commands: Redis;
  readonly #keys: RedisKeys;
  readonly #instanceId: string;
  readonly #ackChannel: string;
  readonly #handlers: ChangeBusHandlers;
  readonly #waiters = new Map<number, AckWaiter>();
  readonly #firstAttempt: Promise<void>;
  #onFirstLive: () => void = () => {};
  #live = false;
  #everLive = false;
  #closed = false;
  #nextId = 0;

  /** `subscriber` must be a fresh connection used for nothing else; `commands` sends acknowledgements. */
  constructor(
    subscriber: Redis,
    commands: Redis,
    keys: RedisKeys,
    instanceId: string,
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
    subscriber.on('ready', () => void this.#subscribe());
    subscriber.on('close', () => this.#lose());
    subscriber.on('message', (channel: string, raw: string) => this.#receive(channel, raw));
    if (subscriber.status === 'ready') void this.#subscribe();
  }

  /** True while the subscription is confirmed and its connection up. */
  get live(): boolean {
    return this.#live;
  }

  /** Settles when the first subscription is confirmed, fails, or `timeoutMs` passes. Never rejects. */
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

  /** A new message id, registered so that acknowledgements arriving early are counted. */
  openMessage(): number {
    const id = this.nextId();
    this.#waiters.set(id, { acks: 0, expected: Number.POSITIVE_INFINITY });
    return id;
  }

  /**
   * Waits until `count` receivers (this instance's own subscription included, when it received the
   * message) have acknowledged message `id`, or `timeoutMs` passes. Resolves whether all did.
   */
  awaitAcks(id: number, count: number, timeoutMs: number): Promise<boolean> {
    const waiter = this.#waiters.get(id);
    if (waiter === undefined) return Promise.resolve(true);
    if (waiter.acks >= count || timeoutMs <= 0) {
      this.#waiters.delete(id);
      return Promise.resolve(waiter.acks >= count);
    }
    return new Promise<boolean>((resolve) => {
      waiter.expected = count;
      waiter.resolve = resolve;
      waiter.timer = setTimeout(() => this.#finish(id, false), timeoutMs);
    });
  }

  /** Forgets message `id` (it was never published). */
  dropMessage(id: number): void {
    this.#waiters.delete(id);
  }

  /** Stops listening; waiting commits stop waiting. The connection itself is closed by the owner. */
  close(): void {
    this.#closed = true;
    this.#live = false;
    for (const id of [...this.#waiters.keys()]) this.#finish(id, false);
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
    this.#live = true;
    this.#everLive = true;
    this.#handlers.onLive(resumed);
    this.#onFirstLive();
  }

  #lose(): void {
    if (!this.#live) return;
    this.#live = false;
    this.#handlers.onLost();
  }

  #receive(channel: string, raw: string): void {
    if (this.#closed) return;
    if (channel === this.#ackChannel) {
      this.#acknowledge(Number(raw));
      return;
    }
    if (channel !== this.#keys.changes) return;
    let message: BusMessage;
    try {
      message = decodeBusMessage(raw);
    } catch (error) {
      this.#handlers.report(asError(error), 'redis bus message');
      // An unreadable message may have named anything: drop everything, tell listeners to re-read.
      this.#handlers.onMessage({ from: '', id: 0, ack: false, keys: null, changes: UNKNOWN_MESSAGE_CHANGES });
      return;
    }
    if (message.from === this.#instanceId) {
      // Our own message came back: this subscription is one of the receivers PUBLISH counted.
      this.#acknowledge(message.id);
      return;
    }
    this.#handlers.onMessage(message);
    if (message.ack && this.#commands.status === 'ready') {
      this.#commands
        .publish(this.#keys.ackChannel(message.from), String(message.id))
        .catch((error: unknown) => this.#handlers.report(asError(error), 'redis bus ack'));
    }
  }

  #acknowledge(id: number): void {
    const waiter = this.#waiters.get(id);
    if (waiter === undefined) return;
    waiter.acks++;
    if (waiter.acks >= waiter.expected) this.#finish(id, true);
  }

  #finish(id: number, all: boolean): void {
    const waiter = this.#waiters.get(id);
    if (waiter === undefined) return;
    this.#waiters.delete(id);
    clearTimeout(waiter.timer);
    waiter.resolve?.(all);
  }
}
