/**
 * Kill -9 to every player resumed, measured over 20 runs: the example poker server is killed in the
 * middle of a burst of moves by 3 players, restarted on the same data, and every player reclaims
 * its seat. Each run checks the log the players end up with (every event once, in order, every
 * acknowledged move in it); the time from the kill to the last player resumed goes to the e2e
 * report at the end of the test run (p50, p95, max), never into an assertion, so a loaded machine
 * cannot fail the suite. `games-kill.test.ts` keeps the single-run check with a limit.
 */
import { describe, expect, it } from 'vitest';
import { createTable } from '../../examples/card-game/client.js';
import { reportFigure } from '../support/e2e-report.js';
import {
  cardGameServers,
  expectAcksInLog,
  expectOneLog,
  freePort,
  killMidBurst,
  reconnectAll,
  startPlaying,
  stopClients,
  stopServer,
} from './card-game-fixture.js';

const servers = cardGameServers('savepoint-card-resume-');
const RUNS = 20;
const players = ['ann', 'ben', 'cat'];

/** The value below which `share` of the sorted `values` lie (nearest rank). */
function percentile(sorted: readonly number[], share: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil(share * sorted.length) - 1)] ?? Number.NaN;
}

describe('kill -9 to every player resumed', () => {
  it(`every player of a table resumes after each of ${RUNS} kills, with the log it had`, async ({ task }) => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    let server = await servers.start(port, ['--data-dir', servers.dataDir]);
    const resumeMs: number[] = [];
    for (let run = 0; run < RUNS; run++) {
      const tableId = `resume-${run}`;
      const tokens = await createTable(base, tableId, players);
      const clients = await startPlaying({ urls: base, tableId, players, tokens, seed: 100 + run });
      const killedAt = await killMidBurst(server, clients);
      const acks = clients.map((client) => [...client.acks]);
      const lastAck = Math.max(...acks.flat().map((ack) => ack.seq));

      const restarting = servers.start(port, ['--data-dir', servers.dataDir]);
      const resumedAt = await reconnectAll(clients);
      server = await restarting;
      resumeMs.push(Math.max(...resumedAt) - killedAt);

      const head = clients[0]?.lastSeq ?? 0;
      expect(head).toBeGreaterThanOrEqual(lastAck);
      const events = expectOneLog(clients, head, () => {});
      expectAcksInLog(clients, acks, events);
      stopClients(clients);
    }
    await stopServer(server);

    const sorted = [...resumeMs].sort((a, b) => a - b);
    const figure =
      `kill -9 -> every player resumed (${players.length} players mid-burst, ${RUNS} runs): ` +
      `p50 ${percentile(sorted, 0.5).toFixed(0)} ms, p95 ${percentile(sorted, 0.95).toFixed(0)} ms, ` +
      `max ${(sorted.at(-1) ?? Number.NaN).toFixed(0)} ms`;
    reportFigure(task, figure);
    expect(resumeMs).toHaveLength(RUNS);
  }, 600_000);
});
