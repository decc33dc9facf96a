/**
 * Starts a worker thread on a module beside this file (the integrity check, the WAL checkpointer).
 *
 * The build runs `<name>.js`, compiled beside this file. From the TypeScript sources (Vitest, tsx)
 * the module is `<name>.ts`, and a worker thread inherits neither the loader that let its parent
 * import TypeScript nor, on Node 20, an `--import` of one; tsx's `require` hook does work inside the
 * thread (tsx is a dev dependency, installed wherever the sources run).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';

export function startSiblingWorker(name: string, workerData: unknown): Worker {
  const here = import.meta.url;
  // Never the process's own flags: `node --input-type=module -e …` or a test runner's stop a worker.
  const options = { workerData, execArgv: [] };
  if (!fileURLToPath(here).endsWith('.ts')) return new Worker(new URL(`./${name}.js`, here), options);
  const tsx = createRequire(here).resolve('tsx/cjs');
  const entry = fileURLToPath(new URL(`./${name}.ts`, here));
  return new Worker(`require(${JSON.stringify(tsx)});\nrequire(${JSON.stringify(entry)});`, {
    ...options,
    eval: true,
  });
}
