/**
 * Progress reporting for long CLI commands (sweep now; export, import, migrate and seed later):
 * a live bar on a terminal, plain lines (at most one a second) when the output is a file or a pipe, so
 * logs stay readable. Progress goes to stderr, keeping stdout for the command's result.
 */
import { SingleBar } from 'cli-progress';

export interface ProgressOptions {
  /** What is being done: `sweeping`, `exporting`. */
  readonly label: string;
  /** What is counted: `records`, `documents`. Default `items`. */
  readonly unit?: string;
  /** The expected total, when known; the bar then shows a percentage and an ETA. */
  readonly total?: number;
  /** Where to write; default `process.stderr`. */
  readonly stream?: NodeJS.WritableStream & { readonly isTTY?: boolean };
  /** Draw a live bar; default: when `stream` is a terminal. */
  readonly live?: boolean;
  /** Least time between two plain lines; default 1000 ms. */
  readonly lineIntervalMs?: number;
}

export interface Progress {
  /** Sets the count done so far (and the total, if it became known). */
  update(done: number, total?: number): void;
  /** Adds to the count done. */
  increment(by?: number): void;
  /** Ends the report, printing the final count. */
  stop(): void;
}

/** Starts a progress report; see {@link ProgressOptions}. */
export function createProgress(options: ProgressOptions): Progress {
  const stream = options.stream ?? process.stderr;
  const live = options.live ?? stream.isTTY === true;
  return live ? new LiveProgress(options, stream) : new LineProgress(options, stream);
}

class LiveProgress implements Progress {
  readonly #bar: SingleBar;
  readonly #knownTotal: boolean;
  #done = 0;

  constructor(options: ProgressOptions, stream: NodeJS.WritableStream) {
    const unit = options.unit ?? 'items';
    this.#knownTotal = options.total !== undefined;
    const format = this.#knownTotal
      ? `${options.label} [{bar}] {percentage}% | {value}/{total} ${unit} | ETA {eta_formatted}`
      : `${options.label}: {value} ${unit} | {duration_formatted}`;
    this.#bar = new SingleBar({ format, stream, hideCursor: true, clearOnComplete: false, etaBuffer: 20 });
    this.#bar.start(options.total ?? 0, 0);
  }

  update(done: number, total?: number): void {
    this.#done = done;
    if (total !== undefined) this.#bar.setTotal(total);
    // With no known total, keep total = value so the bar never reads as "over 100%".
    else if (!this.#knownTotal) this.#bar.setTotal(done);
    this.#bar.update(done);
  }

  increment(by = 1): void {
    this.update(this.#done + by);
  }

  stop(): void {
    this.#bar.stop();
  }
}

class LineProgress implements Progress {
  readonly #options: ProgressOptions;
  readonly #stream: NodeJS.WritableStream;
  readonly #interval: number;
  #done = 0;
  #total: number | undefined;
  #lastLineAt = 0;
  #lastPrinted = -1;

  constructor(options: ProgressOptions, stream: NodeJS.WritableStream) {
    this.#options = options;
    this.#stream = stream;
    this.#total = options.total;
    this.#interval = options.lineIntervalMs ?? 1000;
  }

  #line(): void {
    const unit = this.#options.unit ?? 'items';
    const of = this.#total === undefined ? '' : ` of ${this.#total}`;
    this.#stream.write(`${this.#options.label}: ${this.#done}${of} ${unit}\n`);
    this.#lastPrinted = this.#done;
    this.#lastLineAt = Date.now();
  }

  update(done: number, total?: number): void {
    this.#done = done;
    if (total !== undefined) this.#total = total;
    if (Date.now() - this.#lastLineAt >= this.#interval) this.#line();
  }

  increment(by = 1): void {
    this.update(this.#done + by);
  }

  stop(): void {
    if (this.#lastPrinted !== this.#done) this.#line();
  }
}
