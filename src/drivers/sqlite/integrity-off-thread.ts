/**
 * SQLite's `integrity_check` reads every page: seconds on a large file, during which the thread
 * running it does nothing else. In a running server that thread answers every request, so the
 * check runs in a worker thread on its own read-only connection (see `integrity-job.ts`); the
 * answers, and their wording, are the ones the same check gives on the caller's thread.
 */
import Database from 'better-sqlite3';
import { SavepointError } from '../../errors.js';
import { type IntegrityAnswer, type IntegrityJob, runIntegrityJob } from './integrity-job.js';
import { startSiblingWorker } from './sibling-worker.js';
import { translateSqliteError } from './sqlite-errors.js';

function runInWorker(job: IntegrityJob, signal: AbortSignal | undefined): Promise<IntegrityAnswer> {
  return new Promise((resolve, reject) => {
    const worker = startSiblingWorker('integrity-worker', job);
    let answer: IntegrityAnswer | undefined;
    let failure: unknown;
    const abort = (): void => {
      failure = signal?.reason;
      void worker.terminate();
    };
    signal?.addEventListener('abort', abort, { once: true });
    worker.once('message', (message: IntegrityAnswer) => {
      answer = message;
    });
    worker.once('error', (error) => {
      failure ??= error;
    });
    worker.once('exit', (code) => {
      signal?.removeEventListener('abort', abort);
      if (answer !== undefined) resolve(answer);
      else
        reject(failure ?? new Error(`the integrity-check worker exited with code ${code} without an answer`));
    });
  });
}

let warnedInThread = false;

/**
 * Runs `job` in a worker thread. A worker that cannot start (a broken install, a missing loader)
 * costs responsiveness, not the answer: the job then runs here, with one warning per process.
 * Rejects with `signal.reason` when `signal` aborts first.
 */
async function runOffThread(job: IntegrityJob, signal?: AbortSignal): Promise<IntegrityAnswer> {
  signal?.throwIfAborted();
  try {
    return await runInWorker(job, signal);
  } catch (error) {
    if (signal?.aborted) throw signal.reason;
    if (!warnedInThread) {
      warnedInThread = true;
      process.stderr.write(
        `warning: the SQLite integrity check runs on the main thread, blocking it while it reads the file: its worker thread did not start (${error instanceof Error ? error.message : String(error)})\n`,
      );
    }
    return runIntegrityJob(job);
  }
}

const unexpected = (answer: IntegrityAnswer): SavepointError =>
  new SavepointError('INTERNAL', `The integrity-check worker answered ${answer.kind} to another question`);

/**
 * {@link problemWithFile} off the calling thread, on a read-only connection: why `file` cannot be
 * used, or `undefined` when it passes `check` (default `quick`, as there).
 */
export async function problemWithFileOffThread(
  file: string,
  options: { readonly check?: 'integrity' | 'quick'; readonly signal?: AbortSignal } = {},
): Promise<string | undefined> {
  const answer = await runOffThread({ kind: 'file', file, check: options.check ?? 'quick' }, options.signal);
  if (answer.kind !== 'file') throw unexpected(answer);
  return answer.problem;
}

/**
 * The full {@link integrityProblems} of `file`, off the calling thread, on a read-only connection:
 * every problem, one line each; empty when the file is sound. A file that cannot be read fails as
 * the same native error would on this thread (see `translateSqliteError`).
 */
export async function integrityProblemsOffThread(file: string, signal?: AbortSignal): Promise<string[]> {
  const answer = await runOffThread({ kind: 'problems', file }, signal);
  if (answer.kind === 'problems') return answer.problems;
  if (answer.kind === 'failed') {
    throw translateSqliteError(
      answer.code === undefined
        ? new Error(answer.message)
        : new Database.SqliteError(answer.message, answer.code),
    );
  }
  throw unexpected(answer);
}
