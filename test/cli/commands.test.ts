/** The commands' logic in process: sweep counts, check reports, and the progress helper. */
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { runCheck } from '../../src/cli/commands/check.js';
import { runSweep } from '../../src/cli/commands/sweep.js';
import type { CommandOutput } from '../../src/cli/options.js';
import { createProgress } from '../../src/cli/progress.js';
import { loadConfig } from '../../src/config.js';
import { ManualClock } from '../../src/engine/clock.js';
import { SavepointError } from '../../src/errors.js';
import { openSavepoint } from '../../src/savepoint.js';

class Capture extends Writable {
  text = '';
  isTTY = false;

  override _write(chunk: Buffer, _encoding: string, done: () => void): void {
    this.text += String(chunk);
    done();
  }
}

function capture(): CommandOutput & { out: Capture; err: Capture } {
  return { out: new Capture(), err: new Capture() };
}

describe('sweep', () => {
  it('removes expired records in batches and prints counts per collection', async () => {
    const clock = new ManualClock(Date.UTC(2030, 0, 1));
    const savepoint = await openSavepoint({ url: 'memory:', clock: clock.now });
    const ops = [];
    for (let i = 0; i < 25; i++)
      ops.push({ op: 'put' as const, collection: 'sessions-x', key: `s${i}`, value: i, ttlMs: 1000 });
    for (let i = 0; i < 3; i++)
      ops.push({ op: 'put' as const, collection: 'cache', key: `c${i}`, value: i, ttlMs: 1000 });
    ops.push({ op: 'put' as const, collection: 'cache', key: 'kept', value: 1 });
    await savepoint.store.commit(ops);
    await savepoint.store.commit([
      { op: 'append', stream: 'log', events: [{ type: 'x' }], expiresAt: clock.now() + 1000 },
    ]);
    clock.advance(2000);

    const output = capture();
    const totals = await runSweep(savepoint, output, { batchSize: 4 });
    expect(totals).toEqual({
      documents: { 'sessions-x': 25, cache: 3 },
      streams: 1,
      boards: 0,
      total: 29,
      more: false,
    });
    expect(output.out.text).toBe('cache: 3\nsessions-x: 25\nstreams: 1\nremoved 29 expired records\n');
    expect(output.err.text).toMatch(/^sweeping: \d+ expired records removed$/m);
    expect(output.err.text.trim().split('\n').at(-1)).toBe('sweeping: 29 expired records removed');
    expect(await savepoint.store.get('cache', 'kept')).toBeDefined();
    await savepoint.close();
  });
});

describe('check', () => {
  const config = loadConfig({ env: { DATABASE_URL: 'memory:' } });

  it('reports each step and returns true for a healthy store', async () => {
    const output = capture();
    expect(await runCheck(config, output)).toBe(true);
    const lines = output.out.text.trim().split('\n');
    expect(lines.at(-1)).toBe('healthy');
    expect(lines.filter((line) => line.startsWith('ok '))).toHaveLength(6);
  });

  it('reports a store that cannot open, readably', async () => {
    const output = capture();
    const healthy = await runCheck(config, output, {
      open: async () => {
        throw new SavepointError('STORAGE_UNAVAILABLE', 'connection refused at db:5432');
      },
    });
    expect(healthy).toBe(false);
    expect(output.out.text).toMatch(
      /^FAIL {2}open \(and migrate\) \(\d+ ms\): connection refused at db:5432$/m,
    );
    expect(output.out.text).toMatch(/^unhealthy: 1 of 1 steps failed$/m);
  });

  it('reports a store that opens but cannot read', async () => {
    const savepoint = await openSavepoint({ url: 'memory:' });
    const output = capture();
    const healthy = await runCheck(config, output, {
      open: async () => {
        await savepoint.store.close();
        return savepoint;
      },
    });
    expect(healthy).toBe(false);
    expect(output.out.text).toMatch(/^FAIL {2}read a document .*The store is closed$/m);
  });
});

describe('progress', () => {
  it('prints plain lines, at most one per interval, and the final count', () => {
    const stream = new Capture();
    const progress = createProgress({
      label: 'exporting',
      unit: 'documents',
      total: 10,
      stream,
      lineIntervalMs: 60_000,
    });
    progress.update(1);
    progress.increment(4);
    progress.increment();
    progress.stop();
    expect(stream.text).toBe('exporting: 1 of 10 documents\nexporting: 6 of 10 documents\n');
  });

  it('draws a live bar on a terminal', () => {
    const stream = Object.assign(new Capture(), {
      isTTY: true,
      columns: 80,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
    const progress = createProgress({ label: 'importing', unit: 'records', total: 4, stream });
    progress.update(2);
    progress.update(4);
    progress.stop();
    expect(stream.text).toContain('importing [');
    expect(stream.text).toContain('4/4 records');
  });

  it('draws a counter when the total is unknown', () => {
    const stream = Object.assign(new Capture(), {
      isTTY: true,
      columns: 80,
      cursorTo: () => true,
      clearLine: () => true,
      moveCursor: () => true,
    });
    const progress = createProgress({ label: 'sweeping', unit: 'removed', stream });
    progress.update(1500);
    progress.stop();
    expect(stream.text).toContain('sweeping: 1500 removed');
  });
});
