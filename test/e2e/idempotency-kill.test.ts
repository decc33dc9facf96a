/**
 * Idempotency keys across a crash, with a real `savepoint serve` on SQLite: a burst of keyed `$inc`
 * writes, each with its own key, is cut by SIGKILL. After a restart on the same data dir every key
 * is retried until it is answered: the counter must then equal the number of keys (each effect
 * applied exactly once, neither lost nor doubled), every answer seen before the kill must come
 * back byte for byte, and every key must replay its answer with `Idempotent-Replayed: true`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, type ServeProcess, startServe } from '../support/processes.js';

const KEYS = 300;
const CONCURRENCY = 16;
/** The kill comes once this many writes were acknowledged, with the rest in flight or not sent. */
const KILL_AFTER_ACKS = 60;
const apiKey = `idem-${randomBytes(12).toString('hex')}`;
const headers = (key: string) => ({
  authorization: `Bearer ${apiKey}`,
  'content-type': 'application/json',
  'idempotency-key': key,
});

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly replayed: boolean;
}

async function increment(url: string, key: string): Promise<Answer> {
  const response = await fetch(`${url}/v1/docs/counters/total`, {
    method: 'PATCH',
    headers: headers(key),
    body: JSON.stringify({ $inc: { n: 1 } }),
  });
  return {
    status: response.status,
    body: await response.text(),
    replayed: response.headers.get('idempotent-replayed') === 'true',
  };
}

/** Retries one key until it is answered: a claim the killed process left answers 409 until it expires. */
async function settle(url: string, key: string): Promise<Answer> {
  for (;;) {
    const answer = await increment(url, key);
    if (answer.status !== 409) return answer;
    await sleep(250);
  }
}

const SERVE_ENV = {
  SAVEPOINT_API_KEY: apiKey,
  SAVEPOINT_SWEEP_INTERVAL: '0',
  SAVEPOINT_BACKUP_INTERVAL: '0',
  SAVEPOINT_LOG_LEVEL: 'warn',
};

describe('idempotency keys across kill -9 (savepoint serve, SQLite)', () => {
  let dataDir: string;
  let server: ServeProcess | undefined;

  beforeAll(async () => {
    ensureBuilt();
    dataDir = await mkdtemp(join(tmpdir(), 'savepoint-idem-kill-'));
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
    await rm(dataDir, { recursive: true, force: true });
  });

  it('every key applies exactly once and every answer replays', async () => {
    const keys = Array.from({ length: KEYS }, (_, index) => `burst-${index}`);
    server = await startServe({ name: 'A', args: [], dataDir, env: SERVE_ENV });
    const created = await fetch(`${server.url}/v1/docs/counters/total`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ value: { n: 0 } }),
    });
    expect(created.status).toBe(201);

    // The burst, cut by SIGKILL once KILL_AFTER_ACKS answers came back.
    const acknowledged = new Map<string, string>();
    const first = server;
    let next = 0;
    let killed: Promise<number | string> | undefined;
    let cut = 0;
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (next < keys.length && killed === undefined) {
          const key = keys[next++] as string;
          try {
            const answer = await increment(first.url, key);
            if (answer.status === 200) acknowledged.set(key, answer.body);
          } catch {
            // The connection died with the process: this key's fate is unknown until retried.
            cut++;
          }
          if (acknowledged.size >= KILL_AFTER_ACKS && killed === undefined) killed = first.kill('SIGKILL');
        }
      }),
    );
    expect(await killed).toBe('SIGKILL');
    console.log(
      `[idempotency-kill] ${acknowledged.size} acknowledged, ${cut} cut by the kill, of ${KEYS} keys`,
    );
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER_ACKS);
    expect(acknowledged.size).toBeLessThan(KEYS);

    server = await startServe({ name: 'A2', args: [], dataDir, env: SERVE_ENV });
    const restarted = server;
    const settled = new Map<string, Answer>();
    for (let start = 0; start < keys.length; start += CONCURRENCY) {
      const slice = keys.slice(start, start + CONCURRENCY);
      const answers = await Promise.all(slice.map((key) => settle(restarted.url, key)));
      slice.forEach((key, index) => {
        settled.set(key, answers[index] as Answer);
      });
    }
    for (const [key, answer] of settled) expect(answer.status, key).toBe(200);
    // Answers seen before the kill come back unchanged, replayed.
    for (const [key, body] of acknowledged) {
      expect(settled.get(key)?.body, key).toBe(body);
      expect(settled.get(key)?.replayed, key).toBe(true);
    }

    const total = await fetch(`${restarted.url}/v1/docs/counters/total`, {
      headers: { authorization: `Bearer ${apiKey}` },
    });
    const document = (await total.json()) as { value: { n: number }; version: number };
    expect(document.value.n).toBe(KEYS);
    expect(document.version).toBe(KEYS + 1);
    // Each key's answer names its own version: no two keys share an effect.
    const versions = new Set(
      [...settled.values()].map((answer) => (JSON.parse(answer.body) as { version: number }).version),
    );
    expect(versions.size).toBe(KEYS);

    // And every answer can be replayed again.
    for (const key of keys) {
      const again = await increment(restarted.url, key);
      expect(again.replayed, key).toBe(true);
      expect(again.body, key).toBe(settled.get(key)?.body);
    }
  }, 180_000);
});
