/**
 * Open-loop HTTP load for the games benchmarks: requests leave on a fixed schedule whether or not
 * earlier ones have been answered, and each latency is measured from the request's SCHEDULED
 * time, so time spent queued behind a slow server (or in the client's socket pool) counts.
 * Also: starting a server as a child process, and one keep-alive JSON request.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { Agent, request } from 'node:http';
import { fileURLToPath } from 'node:url';
import { type LatencySummary, summarize } from '../support/stats.js';

export const root = fileURLToPath(new URL('../..', import.meta.url));

export interface Server {
  readonly child: ChildProcess;
  readonly url: URL;
  /** SIGTERM, then resolves once the process has exited (SIGKILL after 10 s). */
  readonly stop: () => Promise<void>;
}

/** Spawns `command` and resolves once it prints `listening on http://…`. */
export function startServer(command: string, args: string[], env: NodeJS.ProcessEnv): Promise<Server> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise<void>((done) => child.once('exit', () => done()));
    const stop = async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    };
    let output = '';
    child.stdout?.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const match = /listening on (http:\/\/\S+)/.exec(output);
      if (match?.[1] !== undefined) resolve({ child, url: new URL(match[1]), stop });
    });
    child.once('exit', (code) =>
      reject(new Error(`${command} ${args.join(' ')} exited with ${code} before listening:\n${output}`)),
    );
  });
}

export interface Reply {
  readonly status: number;
  readonly body: string;
}

/** One request on a keep-alive agent; `keepBody: false` drains the answer without decoding it. */
export function send(
  agent: Agent,
  url: URL,
  method: string,
  path: string,
  body: string | undefined,
  headers: Record<string, string>,
  keepBody = true,
): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        agent,
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: {
          ...headers,
          ...(body === undefined
            ? {}
            : { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) }),
        },
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (!keepBody) {
          res.resume();
          res.once('end', () => resolve({ status, body: '' }));
          res.once('error', reject);
          return;
        }
        const chunks: Buffer[] = [];
        res.on('data', (chunk: Buffer) => chunks.push(chunk));
        res.once('end', () => resolve({ status, body: Buffer.concat(chunks).toString() }));
        res.once('error', reject);
      },
    );
    req.once('error', reject);
    req.end(body);
  });
}

export const keepAliveAgent = (maxSockets = 64): Agent => new Agent({ keepAlive: true, maxSockets });

export interface OpenLoopResult {
  readonly scheduled: number;
  readonly ok: LatencySummary;
  /** Answers other than 2xx, socket errors, and requests still unanswered at the drain deadline. */
  readonly errors: number;
  /** Successful answers per second over the time from the first scheduled send to the last answer. */
  readonly achievedPerSecond: number;
  readonly firstError: string | undefined;
}

/**
 * Schedules request `j` at `start + j / rate` for `seconds`, calling `fire(j)` when its time has
 * come (never earlier; later only by the timer's resolution or a busy event loop, which counts).
 * `fire` resolves with whether the request succeeded. Waits up to `drainMs` for the stragglers.
 */
export async function openLoop(
  rate: number,
  seconds: number,
  fire: (j: number) => Promise<boolean | string>,
  drainMs = 15_000,
): Promise<OpenLoopResult> {
  const total = Math.max(1, Math.round(rate * seconds));
  const interval = 1000 / rate;
  const latencies: number[] = [];
  let errors = 0;
  let done = 0;
  let firstError: string | undefined;
  let lastAnswer = 0;
  const start = performance.now() + 5;
  let next = 0;
  let deadline: NodeJS.Timeout | undefined;
  await new Promise<void>((resolve) => {
    const finish = () => {
      if (done === total) resolve();
    };
    const dispatch = () => {
      const now = performance.now();
      while (next < total && start + next * interval <= now) {
        const scheduledAt = start + next * interval;
        const j = next++;
        fire(j).then(
          (outcome) => {
            const at = performance.now();
            lastAnswer = at;
            if (outcome === true) latencies.push(at - scheduledAt);
            else {
              errors++;
              firstError ??= outcome === false ? 'failed' : outcome;
            }
            done++;
            finish();
          },
          (error: unknown) => {
            lastAnswer = performance.now();
            errors++;
            firstError ??= error instanceof Error ? error.message : String(error);
            done++;
            finish();
          },
        );
      }
      if (next < total) setTimeout(dispatch, Math.max(0, Math.min(1, start + next * interval - now)));
    };
    setTimeout(dispatch, 5);
    // Requests still unanswered long after the last send count as errors.
    deadline = setTimeout(
      () => {
        errors += total - done;
        firstError ??= `${total - done} requests unanswered ${drainMs} ms after the last send`;
        done = total;
        resolve();
      },
      seconds * 1000 + drainMs,
    );
    deadline.unref();
  });
  clearTimeout(deadline);
  const elapsed = Math.max(1, lastAnswer - start);
  return {
    scheduled: total,
    ok: summarize(Float64Array.from(latencies), elapsed),
    errors,
    achievedPerSecond: (latencies.length / elapsed) * 1000,
    firstError,
  };
}
