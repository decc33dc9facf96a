/** The atomic file writer: whole files or none under the final name, and cleanup after dead writers. */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  isTemporaryName,
  removeStaleTemporaries,
  replaceFileAtomicallySync,
  temporaryPathOf,
  writeFileAtomicSync,
} from '../src/atomic-file.js';

const directory = mkdtempSync(join(tmpdir(), 'savepoint-atomic-file-'));
afterAll(() => rmSync(directory, { recursive: true, force: true }));

describe('atomic files', () => {
  it('replaces a file whole, with the mode asked for, leaving no temporary file', () => {
    const file = join(directory, 'key');
    writeFileSync(file, 'old');
    writeFileAtomicSync(file, 'new\n', { mode: 0o600 });
    expect(readFileSync(file, 'utf8')).toBe('new\n');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readdirSync(directory).filter(isTemporaryName)).toEqual([]);
  });

  it('exclusive: refuses an existing file, keeping it', () => {
    const file = join(directory, 'once');
    writeFileAtomicSync(file, 'first', { exclusive: true });
    expect(() => writeFileAtomicSync(file, 'second', { exclusive: true })).toThrow(/EEXIST/);
    expect(readFileSync(file, 'utf8')).toBe('first');
    expect(readdirSync(directory).filter(isTemporaryName)).toEqual([]);
  });

  it('a failing writer leaves the old file and no temporary one', () => {
    const file = join(directory, 'kept');
    writeFileSync(file, 'whole');
    expect(() =>
      replaceFileAtomicallySync(file, (temporary) => {
        writeFileSync(temporary, 'half');
        throw new Error('disk gone');
      }),
    ).toThrow('disk gone');
    expect(readFileSync(file, 'utf8')).toBe('whole');
    expect(readdirSync(directory).filter(isTemporaryName)).toEqual([]);
  });

  it('temporary names are hidden, end in .tmp, and are never a finished name', () => {
    const temporary = temporaryPathOf(join(directory, 'savepoint-20260101T000000000Z.db'));
    const name = temporary.slice(directory.length + 1);
    expect(name).toMatch(
      new RegExp(`^\\.savepoint-20260101T000000000Z\\.db\\.${process.pid}-[0-9a-f]+\\.tmp$`),
    );
    expect(isTemporaryName(name)).toBe(true);
    expect(isTemporaryName(`${name}-wal`)).toBe(true);
    expect(isTemporaryName('savepoint-20260101T000000000Z.db')).toBe(false);
  });

  it('removes the temporary files of dead writers only', () => {
    const dir = mkdtempSync(join(directory, 'stale-'));
    // A pid that no longer runs: a child that has exited.
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    const stale = join(dir, `.export.ndjson.${dead}-00ff.tmp`);
    const live = temporaryPathOf(join(dir, 'export.ndjson'));
    const finished = join(dir, 'export.ndjson');
    for (const file of [stale, live, finished]) writeFileSync(file, 'x');
    expect(removeStaleTemporaries(dir)).toEqual([stale]);
    expect([existsSync(stale), existsSync(live), existsSync(finished)]).toEqual([false, true, true]);
  });
});
