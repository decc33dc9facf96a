/**
 * Damaged data directories for the recovery tests: each fixture writes a real store, then breaks
 * it the way a disk, a crash or a careless operator would.
 */

import { randomBytes } from 'node:crypto';
import {
  closeSync,
  copyFileSync,
  mkdirSync,
  openSync,
  readFileSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { join } from 'node:path';
import { openSavepoint } from '../../src/savepoint.js';

/** Writes `count` documents `things/k<i>` into a SQLite store at `file`, then closes it cleanly. */
export async function writeStore(file: string, count = 500, marker = 'original'): Promise<void> {
  const savepoint = await openSavepoint({ url: `sqlite:${file}` });
  for (let start = 0; start < count; start += 100) {
    const ops = [];
    for (let index = start; index < Math.min(count, start + 100); index++) {
      ops.push({
        op: 'put' as const,
        collection: 'things',
        key: `k${index}`,
        value: { marker, index, padding: 'x'.repeat(200) },
      });
    }
    await savepoint.store.commit(ops);
  }
  await savepoint.close();
}

export type Damage = 'zero-length' | 'random-bytes' | 'truncated' | 'page-garbage' | 'garbled-wal';

export const DAMAGES: readonly Damage[] = [
  'zero-length',
  'random-bytes',
  'truncated',
  'page-garbage',
  'garbled-wal',
];

/**
 * Leaves a damaged `savepoint.db` in `dir` and returns the bytes of the damaged main file (to
 * prove later that nothing was deleted).
 */
export async function damagedStore(dir: string, damage: Damage): Promise<Buffer> {
  mkdirSync(dir, { recursive: true });
  const file = join(dir, 'savepoint.db');
  switch (damage) {
    case 'zero-length':
      writeFileSync(file, '');
      break;
    case 'random-bytes':
      writeFileSync(file, randomBytes(64 * 1024));
      break;
    case 'truncated': {
      await writeStore(file);
      truncateSync(file, Math.floor(statSync(file).size / 2));
      break;
    }
    case 'page-garbage': {
      await writeStore(file);
      const fd = openSync(file, 'r+');
      writeSync(fd, Buffer.alloc(4096, 0xab), 0, 4096, 4096 * 3);
      closeSync(fd);
      break;
    }
    case 'garbled-wal': {
      // Copy the files while a connection holds uncheckpointed commits, as after a kill -9.
      const live = join(dir, 'live.db');
      await writeStore(live);
      const savepoint = await openSavepoint({ url: `sqlite:${live}` });
      await savepoint.store.commit([
        { op: 'put', collection: 'things', key: 'k0', value: { marker: 'wal' } },
      ]);
      copyFileSync(live, file);
      copyFileSync(`${live}-wal`, `${file}-wal`);
      await savepoint.close();
      writeFileSync(`${file}-wal`, randomBytes(statSync(`${file}-wal`).size));
      break;
    }
  }
  return readFileSync(file);
}
