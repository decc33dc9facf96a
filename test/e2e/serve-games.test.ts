/**
 * The games' crash test against the real service: `savepoint serve` (SQLite in a temporary data
 * dir, default `normal` durability) is killed with SIGKILL in the middle of a burst of event appends,
 * restarted on the same data dir, and three players reclaim their seats with tokens issued before
 * the kill. Every acknowledged append must be in the log at its seq, each player must get exactly
 * the events after its `lastEventSeq`, and restore must answer the snapshot of the last durable
 * append. The time from restart to the last player reconnected is printed (the target: 2 s).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, type ServeProcess, startServe } from '../support/processes.js';

const API_KEY = 'serve-games-e2e-key-0123456789';
const auth = { authorization: `Bearer ${API_KEY}` };
const GAME = 'table-9';
const PLAYERS = ['ann', 'ben', 'cat'] as const;
/** Appends acknowledged before the kill. */
const ACKS_BEFORE_KILL = 120;

const started: ServeProcess[] = [];
let dataDir: string;

beforeAll(async () => {
  ensureBuilt();
  dataDir = await mkdtemp(join(tmpdir(), 'savepoint-serve-games-'));
}, 120_000);
afterAll(async () => {
  await Promise.all(started.map((instance) => instance.kill('SIGKILL')));
  await rm(dataDir, { recursive: true, force: true });
});

/** `savepoint serve` on the suite's data dir, so a restart finds what the killed one wrote. */
async function serve(): Promise<ServeProcess> {
  const instance = await startServe({
    name: 'serve-games',
    args: [],
    dataDir,
    env: { SAVEPOINT_API_KEY: API_KEY },
  });
  started.push(instance);
  return instance;
}

async function call<T>(url: string, method: string, body?: unknown, key = true): Promise<[number, T]> {
  const response = await fetch(url, {
    method,
    headers: { ...(key ? auth : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return [response.status, (await response.json()) as T];
}

interface SentEvent {
  readonly type: string;
  readonly data: { readonly request: number; readonly index: number };
}
interface Append {
  readonly request: number;
  readonly events: readonly SentEvent[];
  readonly state: { readonly request: number; readonly pot: number };
}
interface Ack {
  readonly append: Append;
  readonly firstSeq: number;
  readonly lastSeq: number;
}
interface LoggedEvent {
  readonly seq: number;
  readonly type: string;
  readonly data: SentEvent['data'];
}
interface ReconnectAnswer {
  readonly gameState: { readonly lastSeq: number; readonly state: Append['state'] };
  readonly missedEvents: readonly LoggedEvent[];
}

/** What each request sends: 1 to 3 events, and the snapshot after them. */
function appendFor(request: number): Append {
  const count = 1 + (request % 3);
  return {
    request,
    events: Array.from({ length: count }, (_, index) => ({
      type: index === count - 1 ? 'bet' : 'deal',
      data: { request, index },
    })),
    state: { request, pot: request * 5 },
  };
}

describe('savepoint serve: a game survives kill -9 mid-burst', () => {
  it('keeps every acknowledged append, replays exactly the missed events, and restores the last snapshot', async () => {
    const first = await serve();
    const game = `${first.url}/api/game/${GAME}`;
    const [persisted] = await call(`${game}/persist`, 'POST', {
      state: { request: 0, pot: 0 },
      players: PLAYERS,
      phase: 'betting',
    });
    expect(persisted).toBe(200);
    const tokens = new Map<string, string>();
    for (const player of PLAYERS) {
      const [status, body] = await call<{ token: string }>(
        `${game}/connection-token?playerId=${player}`,
        'GET',
      );
      expect(status).toBe(200);
      tokens.set(player, body.token);
    }

    // One writer appends back to back, and the server is killed while it does.
    const acks: Ack[] = [];
    const sent = new Map<number, Append>();
    let writerError: unknown;
    const writer = (async () => {
      for (let request = 1; ; request++) {
        const append = appendFor(request);
        sent.set(request, append);
        try {
          const [status, body] = await call<{ firstSeq: number; lastSeq: number }>(`${game}/events`, 'POST', {
            events: append.events,
            state: append.state,
          });
          if (status !== 200) throw new Error(`append answered ${status}: ${JSON.stringify(body)}`);
          acks.push({ append, firstSeq: body.firstSeq, lastSeq: body.lastSeq });
        } catch (error) {
          writerError = error;
          return;
        }
      }
    })();
    while (acks.length < ACKS_BEFORE_KILL && writerError === undefined) {
      await new Promise((resolve) => setTimeout(resolve, 1));
    }
    first.run.child.kill('SIGKILL');
    expect(await first.run.exited).toBe('SIGKILL');
    await writer;
    // The writer stopped because the server went away, not because of a bad answer.
    expect(String(writerError)).not.toMatch(/append answered/);
    expect(acks.length).toBeGreaterThanOrEqual(ACKS_BEFORE_KILL);
    const lastAck = acks.at(-1) as Ack;

    // What each player had seen when the server died: nothing, part of the log, all acknowledged.
    const seen = new Map<string, number | undefined>([
      ['ann', undefined],
      ['ben', acks[Math.floor(acks.length / 3)]?.lastSeq],
      ['cat', lastAck.lastSeq],
    ]);

    // Restart on the same data dir; every player reconnects with its pre-kill token at once.
    const restartedAt = performance.now();
    const second = await serve();
    const listeningAt = performance.now();
    const next = `${second.url}/api/game/${GAME}`;
    const answers = await Promise.all(
      PLAYERS.map(async (player) => {
        const lastEventSeq = seen.get(player);
        const [status, body] = await call<ReconnectAnswer>(
          `${next}/reconnect`,
          'POST',
          {
            gameId: GAME,
            playerId: player,
            reconnectToken: tokens.get(player),
            ...(lastEventSeq === undefined ? {} : { lastEventSeq }),
          },
          false,
        );
        expect({ player, status }).toEqual({ player, status: 200 });
        return body;
      }),
    );
    const reconnectedAt = performance.now();
    const durable = answers[0]?.gameState.lastSeq ?? 0;
    console.log(
      `serve-games: restart -> all ${PLAYERS.length} players reconnected in ${(reconnectedAt - restartedAt).toFixed(0)} ms ` +
        `(process start -> listening ${(listeningAt - restartedAt).toFixed(0)} ms, reconnects ${(reconnectedAt - listeningAt).toFixed(0)} ms); ` +
        `${acks.length} appends acknowledged up to seq ${lastAck.lastSeq}, ${durable} events durable`,
    );
    expect(reconnectedAt - restartedAt).toBeLessThan(10_000);

    // The log: seq 1..head without gaps, every acknowledged append at its seqs.
    const log: LoggedEvent[] = [];
    for (;;) {
      const [status, body] = await call<{ events: LoggedEvent[] }>(
        `${next}/events?after=${log.length}&limit=1000`,
        'GET',
      );
      expect(status).toBe(200);
      if (body.events.length === 0) break;
      log.push(...body.events);
    }
    const head = log.length;
    expect(log.map((event) => event.seq)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
    expect(head).toBeGreaterThanOrEqual(lastAck.lastSeq);
    for (const ack of acks) {
      expect(ack.lastSeq - ack.firstSeq + 1).toBe(ack.append.events.length);
      expect(log.slice(ack.firstSeq - 1, ack.lastSeq).map(({ type, data }) => ({ type, data }))).toEqual(
        ack.append.events,
      );
    }
    // Beyond the last acknowledged seq there can only be the append in flight at the kill, whole.
    const beyond = log.slice(lastAck.lastSeq);
    if (beyond.length > 0) {
      expect(beyond.map(({ type, data }) => ({ type, data }))).toEqual(
        sent.get(lastAck.append.request + 1)?.events,
      );
    }

    // Restore: the snapshot written with the last durable append, which is the last acknowledged one
    // unless the one in flight also made it (whole, with its events).
    const [restored, game2] = await call<{ state: Append['state']; lastSeq: number; players: string[] }>(
      `${next}/restore`,
      'GET',
    );
    expect(restored).toBe(200);
    const lastDurableRequest = log.at(-1)?.data.request ?? 0;
    expect(game2).toMatchObject({ lastSeq: head, players: [...PLAYERS] });
    expect(game2.state).toEqual(sent.get(lastDurableRequest)?.state);
    if (head === lastAck.lastSeq) expect(game2.state).toEqual(lastAck.append.state);

    // Each player got exactly the events after its lastEventSeq, and the same snapshot.
    for (const [index, player] of PLAYERS.entries()) {
      const answer = answers[index] as ReconnectAnswer;
      const after = seen.get(player) ?? 0;
      expect(answer.gameState.lastSeq).toBe(head);
      expect(answer.gameState.state).toEqual(game2.state);
      expect(answer.missedEvents.map(({ seq, type, data }) => ({ seq, type, data }))).toEqual(
        log.slice(after).map(({ seq, type, data }) => ({ seq, type, data })),
      );
    }

    second.run.child.kill('SIGTERM');
    expect(await second.run.exited).toBe(0);
  });
});
