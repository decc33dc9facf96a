/**
 * Worker-thread entry of `integrity-off-thread.ts`: runs the one job it was started with and posts
 * the answer. A worker per check, not a pool: checks are rare, and a fresh thread holds no
 * connection between them.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { type IntegrityJob, runIntegrityJob } from './integrity-job.js';

parentPort?.postMessage(runIntegrityJob(workerData as IntegrityJob));
