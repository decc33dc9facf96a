import type { Clock } from './store.js';

/** A clock that only moves when told to; tests use it to expire records without waiting. */
export class ManualClock {
  #now: number;

  constructor(start = Date.now()) {
    this.#now = start;
  }

  readonly now: Clock = () => this.#now;

  advance(ms: number): void {
    this.#now += ms;
  }

  set(time: number): void {
    this.#now = time;
  }
}
