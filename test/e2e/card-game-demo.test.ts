/**
 * The showcase never hangs: the card-game demo (examples/card-game/client.ts `runDemo`) plays to
 * its end 20 times in a row against one example server, which is killed with SIGKILL in the middle
 * of every other run and restarted. A run ends when a player wins every chip or a player has made
 * its moves; a client that kept a stale table would wait for a turn that never comes, and the run
 * would never end. Each run gets a generous time limit, so only a hang fails it, never slowness.
 */
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { runDemo } from '../../examples/card-game/client.js';
import { cardGameServers, freePort, logOf, seeded, until } from './card-game-fixture.js';

const servers = cardGameServers('savepoint-card-demo-');
const RUNS = 20;
/** Moves per player: enough for several hands, and for a kill in the middle of one. */
const ACTIONS = 40;
/** Far above a run's usual few seconds: reaching it means the demo stalled. */
const RUN_LIMIT_MS = 90_000;
const players = ['alice', 'bob', 'carol'];

describe('the card-game demo', () => {
  it(
    `plays to its end ${RUNS} times in a row, with a kill -9 in every other run`,
    async () => {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      let server = await servers.start(port, ['--data-dir', servers.dataDir]);
      for (let run = 0; run < RUNS; run++) {
        const tableId = `demo-${run}`;
        const lines: string[] = [];
        const stalled = new AbortController();
        const limit = setTimeout(
          () => stalled.abort(new Error(`run ${run} (${tableId}) did not end within ${RUN_LIMIT_MS} ms`)),
          RUN_LIMIT_MS,
        );
        try {
          const playing = runDemo({
            urls: [url],
            tableId,
            players,
            actions: ACTIONS,
            random: (index) => seeded(run * 100 + index),
            log: (line) => lines.push(line),
            signal: stalled.signal,
          });
          if (run % 2 === 1) {
            // Mid-hand: the first player narrates every event as `#<seq> ...`.
            await until(() => lines.filter((line) => line.startsWith('#')).length >= 25, 30_000, 'events');
            server.kill('SIGKILL');
            await once(server, 'exit');
            server = await servers.start(port, ['--data-dir', servers.dataDir]);
          }
          const { winner, clients } = await playing;

          expect(winner !== null || clients.some((client) => client.acks.length >= ACTIONS)).toBe(true);
          const longest = logOf(clients.reduce((a, b) => (b.lastSeq > a.lastSeq ? b : a)).events);
          for (const client of clients) {
            expect(client.problems).toEqual([]);
            // Every event once and in order, and the same events as every other client up to where it stopped.
            expect(client.events.map((event) => event.seq)).toEqual(
              Array.from({ length: client.lastSeq }, (_, i) => i + 1),
            );
            expect(logOf(client.events)).toEqual(longest.slice(0, client.lastSeq));
          }
          if (run % 2 === 1) expect(lines.some((line) => / reconnected to /.test(line))).toBe(true);
        } finally {
          clearTimeout(limit);
        }
      }
      server.kill('SIGTERM');
      await once(server, 'exit');
    },
    RUNS * RUN_LIMIT_MS,
  );
});
