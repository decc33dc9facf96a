/**
 * Tells a reconnect that lost a race for a seat (`SEAT_TAKEN`) from a reuse of a spent token
 * (`TOKEN_INVALID`). Both present the token the winner just replaced; the difference is whether it
 * was sent before the winner's answer could have reached anyone. So the winner holds its answer
 * while racing requests keep arriving: every request that arrives during the hold raced it, and a
 * reuse, which its sender can only make after seeing the answer, always arrives after the hold.
 */

/**
 * Wall time with sub-millisecond resolution, comparable across the processes of one machine.
 * A millisecond clock would call a sequential reuse in the same millisecond a race.
 */
export const preciseNow = (): number => performance.timeOrigin + performance.now();

interface HeldAnswer {
  readonly previousHash: string;
  lastRaceAt: number;
}

/** The winners of this process whose answers are being held, by seat. */
export class SeatRaces {
  readonly #held = new Map<string, HeldAnswer>();
  readonly #quietMs: number;
  readonly #maxHoldMs: number;

  /**
   * @param quietMs a winner answers once no racing request has arrived for this long.
   * @param maxHoldMs and at most this long after its rotation, however many keep arriving.
   */
  constructor(quietMs: number, maxHoldMs: number) {
    this.#quietMs = quietMs;
    this.#maxHoldMs = maxHoldMs;
  }

  /**
   * Whether a request presenting `presentedHash`, which a rotation at `rotatedAt` replaced, raced
   * that rotation. A winner held here hears of it and holds on. Without a held winner here (it ran
   * on another instance, or already answered), the request raced it only if it arrived within the
   * quiet period after the rotation, the shortest time any winner holds.
   */
  raced(seat: string, presentedHash: string, rotatedAt: number, receivedAt: number): boolean {
    const held = this.#held.get(seat);
    if (held !== undefined && held.previousHash === presentedHash) {
      held.lastRaceAt = Math.max(held.lastRaceAt, preciseNow());
      return true;
    }
    return receivedAt < rotatedAt + this.#quietMs;
  }

  /** Resolves when the winner of `seat` may answer; see the constructor. */
  async hold(seat: string, previousHash: string, rotatedAt: number): Promise<void> {
    if (this.#quietMs === 0) return;
    const held: HeldAnswer = { previousHash, lastRaceAt: rotatedAt };
    this.#held.set(seat, held);
    try {
      for (;;) {
        const until = Math.min(held.lastRaceAt + this.#quietMs, rotatedAt + this.#maxHoldMs);
        const wait = until - preciseNow();
        if (wait <= 0) return;
        // Rounded up: timers may fire a fraction of a millisecond early.
        await new Promise((resolve) => setTimeout(resolve, Math.ceil(wait)));
      }
    } finally {
      if (this.#held.get(seat) === held) this.#held.delete(seat);
    }
  }
}
