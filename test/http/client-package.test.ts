/**
 * `savepoint/client` as a consumer of the package sees it: a small TypeScript file importing the
 * built `dist/` through the package's `exports`, compiled with `skipLibCheck: false`. The client's
 * declarations import the server's schema declarations (type-only), so this proves they resolve
 * from the package alone and carry real types rather than `any`.
 */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from '../cli/cli-harness.js';

const run = promisify(execFile);
const TSC = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

const CONSUMER = `import { createClient, type GameRecord, SavepointHttpError } from 'savepoint/client';

const client = createClient({ baseUrl: 'http://127.0.0.1:8787', apiKey: 'key' });

export async function pot(gameId: string): Promise<number | undefined> {
  try {
    const game: GameRecord<{ pot: number }> | undefined = await client.restoreGame<{ pot: number }>(gameId);
    // @ts-expect-error persistedAt is a string: the wire types resolved, they are not \`any\`
    const wrong: number | undefined = game?.persistedAt;
    void wrong;
    const saved = await client.putDocument('profiles', 'p1', { name: 'Ada' }, { ttl: '7d' });
    // @ts-expect-error a document version is a number
    const version: string = saved.version;
    void version;
    return game?.state.pot;
  } catch (error) {
    if (error instanceof SavepointHttpError && error.code === 'NOT_FOUND') return undefined;
    throw error;
  }
}
`;

const TSCONFIG = {
  compilerOptions: {
    target: 'ES2022',
    lib: ['ES2023', 'DOM'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    strict: true,
    skipLibCheck: false,
    noEmit: true,
    types: [],
  },
  files: ['consumer.ts'],
};

describe('savepoint/client for a package consumer', () => {
  let dir: string;
  beforeAll(async () => {
    ensureBuilt();
    dir = await mkdtemp(join(tmpdir(), 'savepoint-client-consumer-'));
    await mkdir(join(dir, 'node_modules'));
    await symlink(ROOT, join(dir, 'node_modules', 'savepoint'), 'dir');
    await writeFile(join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
    await writeFile(join(dir, 'tsconfig.json'), JSON.stringify(TSCONFIG));
    await writeFile(join(dir, 'consumer.ts'), CONSUMER);
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('typechecks against the built declarations, with every library file checked', async () => {
    const outcome = await run(process.execPath, [TSC, '-p', join(dir, 'tsconfig.json')], { cwd: dir }).then(
      () => ({ code: 0, output: '' }),
      (error: { code?: number; stdout?: string; stderr?: string }) => ({
        code: error.code ?? 1,
        output: `${error.stdout ?? ''}${error.stderr ?? ''}`,
      }),
    );
    expect(outcome.output).toBe('');
    expect(outcome.code).toBe(0);
  });
});
