/**
 * One integrity check of a SQLite file, as a plain-data job and answer, so that the same code runs
 * in a worker thread (`integrity-worker.ts`) or, when no worker can be started, on the caller's
 * thread. The connection is read-only: the file belongs to a running server, and WAL mode lets a
 * reader check one consistent snapshot while that server keeps committing.
 */
import Database from 'better-sqlite3';
import { integrityProblems, problemWithFile } from './sqlite-recovery.js';

export type IntegrityJob =
  /** {@link problemWithFile}: why the file cannot be used, as one line, or `undefined`. */
  | { readonly kind: 'file'; readonly file: string; readonly check: 'integrity' | 'quick' }
  /** {@link integrityProblems} with the full check: every problem, one line each. */
  | { readonly kind: 'problems'; readonly file: string };

export type IntegrityAnswer =
  | { readonly kind: 'file'; readonly problem: string | undefined }
  | { readonly kind: 'problems'; readonly problems: string[] }
  /** The `problems` job could not open or read the file; `code` is SQLite's, when it gave one. */
  | { readonly kind: 'failed'; readonly code: string | undefined; readonly message: string };

export function runIntegrityJob(job: IntegrityJob): IntegrityAnswer {
  if (job.kind === 'file') {
    return { kind: 'file', problem: problemWithFile(job.file, { check: job.check, readonly: true }) };
  }
  let db: Database.Database | undefined;
  try {
    db = new Database(job.file, { readonly: true, fileMustExist: true });
    return { kind: 'problems', problems: integrityProblems(db, true) };
  } catch (error) {
    return {
      kind: 'failed',
      code: error instanceof Database.SqliteError ? error.code : undefined,
      message: error instanceof Error ? error.message : String(error),
    };
  } finally {
    db?.close();
  }
}
