/**
 * Leases on the L1: why a stalled instance cannot slow the others' commits, and why it serves no
 * stale value once it runs again.
 *
 * Every instance publishes a heartbeat on `<prefix>:changes` every quarter of its lease `L`
 * (`ackTimeoutMs`), from its command connection, noting the send time `s`. When it hears its own
 * heartbeat back on its subscription it is *confirmed as of `s`*, and it serves its L1 only while
 * `now - s < L`, checked at serve time, on the clock, before every L1 hit. A writer waits for the
 * acknowledgement of each instance it has heard a heartbeat from, but never past that heartbeat's
 * arrival plus `L`; and never, in any case, past `L` after its invalidation script answered.
 *
 * Claim: when a read starts on instance B after a commit was acknowledged, B's L1 does not serve
 * what the commit replaced. Let `M` be the commit's message, which Redis published at time `p`
 * (in the same script that deleted the Redis entries) and the writer W heard answered at `r >= p`.
 * Redis delivers the messages of one channel to each subscription in the order it executed the
 * PUBLISHes, and B handles the messages of its subscription in that order, synchronously.
 * Suppose B has not handled `M` when it serves key k from its L1 at `now`, after W acknowledged.
 * B is then confirmed by a heartbeat sent at `s` with `now - s < L`, heard back on its live
 * subscription. Two cases:
 * - Redis executed that heartbeat after `p`. Then B handled `M` before hearing the heartbeat, on
 *   the same subscription, unless that subscription began after `p`: but B empties its L1 when a
 *   subscription goes live, and fills are refused to reads that started earlier, so k's entry was
 *   read from Redis after `p`, where `M`'s script had already deleted the old value. Not stale.
 * - Redis executed it before `p`, so `s < p <= r`. W went on before `r + L` only if `M` came back
 *   on a subscription of W's that had been live for `L` already (heartbeats.awaited). If that
 *   subscription began after Redis executed the heartbeat, `s` precedes it by more than `L` before
 *   `M` came back. If it began earlier, W heard the heartbeat before `M` (same channel, same
 *   order), at some `h >= s`, and waited until B acknowledged `M` (then B had handled it:
 *   contradiction) or until `h + L >= s + L`. In every case W acknowledged at or after `s + L`,
 *   so `now - s >= L`, and B does not serve its L1. Contradiction.
 *
 * A paused B therefore costs each writer at most `L` once: W keeps its table of heartbeats, and as
 * soon as B's last one is older than `L`, W's commits stop waiting for B at all. When B runs
 * again, whatever it does first (a timer, an HTTP request read together with a backlog of bus
 * messages, in any order), it finds `now - s >= L` and reads Redis; it serves its L1 again only
 * after hearing a new heartbeat, that is, after handling every message published before it. Its
 * L1 is not even emptied: what it holds is exactly as fresh as the messages it has handled, and the
 * fill guards (l1-cache.ts) keep it so. W hears B's new heartbeat and waits for its acks again.
 *
 * The argument assumes that each instance's monotonic clock (`performance.now()`) measures elapsed
 * time at the same rate as the others', up to {@link CLOCK_MARGIN_MS}: true for processes on one
 * host, and within parts per million across hosts. It holds through SIGSTOP, GC pauses and blocked
 * event loops; a virtual machine whose clock stops while it is suspended breaks it.
 */

/** Added to every wait derived from another instance's lease, for timer and clock granularity. */
export const CLOCK_MARGIN_MS = 1;

/** Own heartbeats sent and not heard back yet; older ones are forgotten (they confirm nothing newer). */
const MAX_OUTSTANDING = 64;

interface Peer {
  readonly heardAt: number;
  readonly leaseMs: number;
}

/** This instance's lease and its table of other instances' heartbeats. Times are `performance.now()`. */
export class Heartbeats {
  readonly leaseMs: number;
  /** Send time of the newest own heartbeat heard back on the live subscription. */
  #confirmedAt = Number.NEGATIVE_INFINITY;
  readonly #sent = new Map<number, number>();
  readonly #peers = new Map<string, Peer>();
  /** When the current subscription went live; +∞ while there is none. */
  #subscribedAt = Number.POSITIVE_INFINITY;
  #longestLeaseMs: number;

  constructor(leaseMs: number) {
    this.leaseMs = leaseMs;
    this.#longestLeaseMs = leaseMs;
  }

  /** Whether this instance may serve its L1 at `now`. */
  current(now: number): boolean {
    return now - this.#confirmedAt < this.leaseMs;
  }

  /** How many instances are in the table (heard within their lease, as of the last look). */
  get peerCount(): number {
    return this.#peers.size;
  }

  subscribed(now: number): void {
    this.#subscribedAt = now;
  }

  /** The subscription is gone: nothing sent or heard before counts any more for this instance. */
  lost(): void {
    this.#subscribedAt = Number.POSITIVE_INFINITY;
    this.#confirmedAt = Number.NEGATIVE_INFINITY;
    this.#sent.clear();
  }

  /** Own heartbeat `id` was sent at `at` (while the subscription was live). */
  sent(id: number, at: number): void {
    this.#sent.set(id, at);
    if (this.#sent.size > MAX_OUTSTANDING) {
      const oldest = this.#sent.keys().next();
      if (oldest.done !== true) this.#sent.delete(oldest.value);
    }
  }

  /** Own heartbeat `id` came back on the live subscription. */
  heardOwn(id: number): void {
    const sentAt = this.#sent.get(id);
    if (sentAt === undefined) return;
    // Ids grow, and the subscription delivers in order: earlier ones will not come back now.
    for (const earlier of this.#sent.keys()) {
      this.#sent.delete(earlier);
      if (earlier === id) break;
    }
    if (sentAt > this.#confirmedAt) this.#confirmedAt = sentAt;
  }

  /** Another instance's heartbeat, handled at `now`. */
  heardPeer(from: string, beat: 'alive' | 'leaving', leaseMs: number, now: number): void {
    this.#peers.delete(from);
    if (beat === 'leaving') return;
    this.#peers.set(from, { heardAt: now, leaseMs });
    if (leaseMs > this.#longestLeaseMs) this.#longestLeaseMs = leaseMs;
  }

  /**
   * The instances a commit must wait for, with the time each one stops serving its L1, taken when
   * the commit's own message came back at `now`; `undefined` when the table may be incomplete (the
   * subscription is younger than a lease, so instances may be serving on heartbeats it never heard).
   */
  awaited(now: number): Map<string, number> | undefined {
    if (now < this.#subscribedAt + this.#longestLeaseMs + CLOCK_MARGIN_MS) return undefined;
    const awaited = new Map<string, number>();
    for (const [id, peer] of this.#peers) {
      const deadline = peer.heardAt + peer.leaseMs + CLOCK_MARGIN_MS;
      if (deadline > now) awaited.set(id, deadline);
      else this.#peers.delete(id);
    }
    return awaited;
  }

  /** The latest any instance may serve what a message published before `repliedAt` replaced. */
  fallbackDeadline(repliedAt: number): number {
    return repliedAt + this.#longestLeaseMs + CLOCK_MARGIN_MS;
  }
}
