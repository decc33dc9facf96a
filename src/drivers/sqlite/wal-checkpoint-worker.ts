/**
 * Worker-thread entry of `wal-checkpointer.ts`: a connection of its own that checkpoints the WAL
 * every `intervalMs` until told to stop. PASSIVE never waits for the writer or readers: what it
 * cannot copy now, the next round copies. A failure ends the loop and is reported once.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { CheckpointWorkerData } from './wal-checkpointer.js';

const { file, intervalMs } = workerData as CheckpointWorkerData;
const db = new Database(file, { fileMustExist: true });

const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch (error) {
    parentPort?.postMessage({ failed: error instanceof Error ? error.message : String(error) });
    stop();
  }
}, intervalMs);

function stop(): void {
  clearInterval(timer);
  if (db.open) db.close();
  parentPort?.close();
}

parentPort?.on('message', stop);
