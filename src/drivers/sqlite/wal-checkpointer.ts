/**
 * Checkpoints a busy store's write-ahead log from a worker thread.
 *
 * SQLite's auto-checkpoint runs inside the commit that takes the WAL past 1,000 pages: it copies
 * every page not yet copied into the database file and syncs it, on the thread that committed. With
 * better-sqlite3 that thread is the event loop, and each checkpoint stalled every request for
 * 10-30 ms, about once a second at 1,000 game actions/s: the largest part of the HTTP p99. In WAL
 * mode another connection may checkpoint while the writer goes on, so once a store has committed
 * {@link WORKER_AFTER_BATCHES} batches a worker copies the pages every {@link CHECKPOINT_INTERVAL_MS}.
 * The main connection keeps SQLite's threshold: when it fires, little is left to copy, and the WAL
 * stays as small as before, which the storage reserve (storage-reserve.ts) is sized for.
 * Small and short-lived stores (tests, CLI commands) never start a thread.
 */
import type { Worker } from 'node:worker_threads';
import { startSiblingWorker } from './sibling-worker.js';

/** Committed batches after which the worker starts. */
export const WORKER_AFTER_BATCHES = 256;
/** How often the worker checkpoints. A passive checkpoint with nothing to copy costs microseconds. */
export const CHECKPOINT_INTERVAL_MS = 50;

/** What the worker (`wal-checkpoint-worker.ts`) is started with. */
export interface CheckpointWorkerData {
  readonly file: string;
  readonly intervalMs: number;
}

export class WalCheckpointer {
  readonly #file: string;
  #batches = 0;
  #worker: Worker | undefined;
  #stopped = false;

  /** `file`: the database file of a connection in WAL mode. */
  constructor(file: string) {
    this.#file = file;
  }

  /** Whether the worker is copying the WAL now (so the main connection's own checkpoint may wait for it). */
  get running(): boolean {
    return this.#worker !== undefined;
  }

  /** Counts a committed batch; starts the worker at the threshold. Cheap enough for every batch. */
  committed(): void {
    if (this.#worker !== undefined || this.#stopped) return;
    this.#batches++;
    if (this.#batches >= WORKER_AFTER_BATCHES) this.#start();
  }

  /** Stops the worker and waits for its connection to close, so the main connection can close last (and checkpoint). */
  async stop(): Promise<void> {
    this.#stopped = true;
    const worker = this.#worker;
    this.#worker = undefined;
    if (worker === undefined) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    // Unreferenced, the worker could not keep the process alive until it has closed its connection.
    worker.ref();
    worker.postMessage('stop');
    await exited;
  }

  #start(): void {
    let worker: Worker;
    try {
      const data: CheckpointWorkerData = { file: this.#file, intervalMs: CHECKPOINT_INTERVAL_MS };
      worker = startSiblingWorker('wal-checkpoint-worker', data);
    } catch {
      // No thread (resource limits): SQLite keeps checkpointing on the main connection.
      this.#stopped = true;
      return;
    }
    // A checkpoint thread must never keep a process alive that has nothing else to do.
    worker.unref();
    this.#worker = worker;
    // A failed worker leaves the checkpoints to SQLite on the main connection, as before it started.
    const stopped = () => {
      if (this.#worker !== worker) return;
      this.#worker = undefined;
      this.#stopped = true;
    };
    worker.on('message', stopped);
    worker.on('error', stopped);
    worker.on('exit', stopped);
  }
}
