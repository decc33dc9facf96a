/**
 * `SAVEPOINT_TEST_DRIVERS` chooses the drivers of the one list (test/support/storages.ts): the
 * names it gives, every driver when unset, and a loud failure on a name it does not know.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { selectedDrivers, TEST_DRIVER_NAMES, testStorages } from '../support/storages.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));

describe('SAVEPOINT_TEST_DRIVERS', () => {
  it('selects the drivers it names, and every driver when unset or empty', () => {
    expect([...selectedDrivers('memory, sqlite')]).toEqual(['memory', 'sqlite']);
    expect([...selectedDrivers('postgres+redis')]).toEqual(['postgres+redis']);
    expect([...selectedDrivers(undefined)]).toEqual([...TEST_DRIVER_NAMES]);
    expect([...selectedDrivers('')]).toEqual([...TEST_DRIVER_NAMES]);
  });

  it('fails on a name it does not know, naming it and the known ones', () => {
    expect(() => selectedDrivers('memory,mysql')).toThrow(
      /unknown drivers: mysql \(known: memory, sqlite, postgres, memory\+redis, postgres\+redis\)/,
    );
  });

  it('leaves the drivers it does not name disabled, without probing their services', async () => {
    const before = process.env.SAVEPOINT_TEST_DRIVERS;
    process.env.SAVEPOINT_TEST_DRIVERS = 'sqlite';
    try {
      const { storages, cleanup } = await testStorages('sp_driver_list');
      expect(storages.map((storage) => [storage.name, storage.enabled])).toEqual([
        ['memory', false],
        ['sqlite', true],
        ['postgres', false],
      ]);
      await cleanup();
    } finally {
      if (before === undefined) delete process.env.SAVEPOINT_TEST_DRIVERS;
      else process.env.SAVEPOINT_TEST_DRIVERS = before;
    }
  });

  it('narrows a domain test file when set, and fails it on an unknown name', async () => {
    const vitest = (drivers: string) =>
      run(
        process.execPath,
        [
          'node_modules/vitest/vitest.mjs',
          'run',
          '--reporter=verbose',
          '--reporter=./test/support/closing-line-reporter.ts',
          'test/domains/saves.test.ts',
        ],
        {
          cwd: root,
          env: {
            ...process.env,
            SAVEPOINT_TEST_DRIVERS: drivers,
            SAVEPOINT_REQUIRE_SERVICES: '1',
            NO_COLOR: '1',
          },
        },
      );
    const narrowed = await vitest('memory');
    expect(narrowed.stdout).toMatch(/saves on memory/);
    expect(narrowed.stdout).not.toMatch(/saves on (sqlite|postgres)/);
    expect(narrowed.stdout).toMatch(/tests: 3 passed, 0 failed/);
    const refused = await vitest('memory,oracle').then(
      () => undefined,
      (error: { stdout: string; stderr: string }) => error,
    );
    expect(`${refused?.stdout}${refused?.stderr}`).toMatch(/unknown drivers: oracle/);
  });

  it('docs/testing.md shows it with known drivers and test paths that exist', () => {
    const doc = readFileSync(join(root, 'docs/testing.md'), 'utf8');
    const command = /^SAVEPOINT_TEST_DRIVERS=(\S+) npx vitest run (.+)$/m.exec(doc);
    expect(command).not.toBeNull();
    const [, names, paths] = command as RegExpExecArray;
    expect([...selectedDrivers(names)]).toEqual((names as string).split(','));
    for (const path of (paths as string).split(' ')) expect(existsSync(join(root, path)), path).toBe(true);
  });
});
