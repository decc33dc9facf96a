/**
 * Real `savepoint serve` processes for end-to-end tests, built on the CLI harness
 * (test/cli/cli-harness.ts: `ensureBuilt`, `runCli`), and a small server-sent events reader.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type CliRun, ensureBuilt, runCli } from '../cli/cli-harness.js';

export { ensureBuilt };

/** One running `savepoint serve`. */
export interface ServeProcess {
  /** A name for messages (`A`, `B`). */
  readonly name: string;
  /** `http://127.0.0.1:PORT`, from its `listening on` line. */
  readonly url: string;
  readonly run: CliRun;
  /** Whether it has exited. */
  readonly exited: boolean;
  /** Sends `signal` (default SIGKILL) and resolves with the exit code or signal name. */
  kill(signal?: NodeJS.Signals): Promise<number | string>;
  /** Stops it (SIGTERM, then SIGKILL after `graceMs`) and removes its data dir (unless it was given one). */
  stop(graceMs?: number): Promise<void>;
}

export interface ServeOptions {
  readonly name: string;
  /** Flags after `serve --port 0 --data-dir <dir>`, such as `--database URL --redis URL`. */
  readonly args: readonly string[];
  /** Serve this data dir, which the caller owns (to restart on it), instead of a fresh temporary one. */
  readonly dataDir?: string;
  /** Environment on top of PATH (runCli starts from a clean environment). */
  readonly env?: Record<string, string>;
  /** How long to wait for the `listening on` line. Default 20 s. */
  readonly startTimeoutMs?: number;
}

/** Starts `savepoint serve --port 0` (with a fresh data dir unless given one) and resolves once it listens. */
export async function startServe(options: ServeOptions): Promise<ServeProcess> {
  const dataDir =
    options.dataDir ?? (await mkdtemp(join(tmpdir(), `savepoint-e2e-${options.name.toLowerCase()}-`)));
  const removeOwnDir = async () => {
    if (options.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
  };
  const run = runCli(['serve', '--port', '0', '--data-dir', dataDir, ...options.args], options.env ?? {});
  let exited = false;
  void run.exited.then(() => {
    exited = true;
  });
  let url: string;
  try {
    const [, found] = await run.waitForLine(/^listening on (http:\/\/\S+)$/m, options.startTimeoutMs);
    url = found as string;
  } catch (error) {
    run.child.kill('SIGKILL');
    await run.exited;
    await removeOwnDir();
    throw new Error(`instance ${options.name} did not start`, { cause: error });
  }
  return {
    name: options.name,
    url,
    run,
    get exited() {
      return exited;
    },
    async kill(signal: NodeJS.Signals = 'SIGKILL') {
      if (!exited) run.child.kill(signal);
      return run.exited;
    },
    async stop(graceMs = 5_000) {
      if (!exited) {
        run.child.kill('SIGTERM');
        const timer = setTimeout(() => run.child.kill('SIGKILL'), graceMs);
        await run.exited;
        clearTimeout(timer);
      }
      await removeOwnDir();
    },
  };
}

/** One server-sent event; `id` and `event` are `undefined` when the frame had none. */
export interface SseEvent {
  readonly id: string | undefined;
  readonly event: string | undefined;
  readonly data: string;
}

/** An open `text/event-stream` response, read in the background. */
export interface SseReader {
  /** Every event so far, in arrival order (comment-only frames are left out). */
  readonly events: readonly SseEvent[];
  /** Comment lines so far (`: stream open`, `: heartbeat`), without the colon. */
  readonly comments: readonly string[];
  /** Resolves when `condition` holds, checked on every frame; rejects on timeout or when the stream ends first. */
  until(condition: () => boolean, timeoutMs: number, what: string): Promise<void>;
  /** Aborts the request. */
  close(): void;
}

/** Parses the frames in `text`, returning the unparsed rest (an incomplete frame). */
function parseFrames(
  text: string,
  onEvent: (event: SseEvent) => void,
  onComment: (c: string) => void,
): string {
  const normalized = text.replace(/\r\n?/g, '\n');
  const frames = normalized.split('\n\n');
  const rest = frames.pop() ?? '';
  for (const frame of frames) {
    let id: string | undefined;
    let event: string | undefined;
    const data: string[] = [];
    let fields = 0;
    for (const lineText of frame.split('\n')) {
      if (lineText.startsWith(':')) {
        onComment(lineText.slice(1).trim());
        continue;
      }
      const colon = lineText.indexOf(':');
      const field = colon === -1 ? lineText : lineText.slice(0, colon);
      let value = colon === -1 ? '' : lineText.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      fields++;
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    if (fields > 0) onEvent({ id, event, data: data.join('\n') });
  }
  return rest;
}

/**
 * Opens `url` as a server-sent event stream and resolves once the response headers arrived
 * (rejecting when the status is not 200).
 */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const abort = new AbortController();
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  if (response.status !== 200 || response.body === null) {
    const body = await response.text();
    throw new Error(`stream ${url} answered ${response.status}: ${body}`);
  }
  const events: SseEvent[] = [];
  const comments: string[] = [];
  const waiters = new Set<() => void>();
  let ended: Error | undefined;
  const notify = (): void => {
    for (const waiter of [...waiters]) waiter();
  };
  const reader = response.body.getReader();
  const decoder = new TextDecoder();
  void (async () => {
    let buffered = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffered = parseFrames(
          buffered + decoder.decode(value, { stream: true }),
          (event) => events.push(event),
          (comment) => comments.push(comment),
        );
        notify();
      }
      ended = new Error('the stream ended');
    } catch (error) {
      ended = error instanceof Error ? error : new Error(String(error));
    }
    notify();
  })();
  return {
    events,
    comments,
    until(condition, timeoutMs, what) {
      return new Promise((resolve, reject) => {
        const finish = (error?: Error): void => {
          clearTimeout(timer);
          waiters.delete(check);
          if (error === undefined) resolve();
          else reject(error);
        };
        const timer = setTimeout(
          () =>
            finish(
              new Error(`timed out after ${timeoutMs} ms waiting for ${what} (${events.length} events)`),
            ),
          timeoutMs,
        );
        function check(): void {
          if (condition()) finish();
          else if (ended !== undefined)
            finish(new Error(`stream ended before ${what}: ${ended.message} (${events.length} events)`));
        }
        waiters.add(check);
        check();
      });
    },
    close() {
      abort.abort();
    },
  };
}
