/**
 * The examples of docs/keyv.md and docs/boardgame-io.md run as written, but for the import paths
 * (the package's own modules instead of the published names), the data files and the port.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { Server } from 'boardgame.io';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SavepointStorage } from '../../src/adapters/boardgame-io/index.js';
import { freePort } from '../e2e/card-game-fixture.js';

const source = (relative: string) => new URL(relative, import.meta.url).pathname;
let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'savepoint-adapter-docs-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The doc's first ```ts block, rewritten by `rewrite`, imported as a module with `exports` added. */
async function runExample<T>(doc: string, rewrite: (code: string) => string, exports: string): Promise<T> {
  const text = await readFile(new URL(`../../docs/${doc}`, import.meta.url), 'utf8');
  const example = /```ts\n([\s\S]*?)```/.exec(text)?.[1];
  expect(example).toBeDefined();
  // Next to this file, so that vitest's TypeScript transform applies to it.
  const script = join(import.meta.dirname, `.doc-example-${process.pid}-${doc.replace('.md', '')}.ts`);
  await writeFile(script, `${rewrite(example as string)}\nexport { ${exports} };\n`);
  try {
    return (await import(pathToFileURL(script).href)) as T;
  } finally {
    await rm(script, { force: true });
  }
}

describe('docs/keyv.md', () => {
  it('runs, reading back what it wrote through both constructions', async () => {
    const result = await runExample<{
      ada: unknown;
      both: unknown;
      stored: { value: unknown } | undefined;
      keys: string[];
    }>(
      'keyv.md',
      (code) =>
        code
          .replace(
            "from 'savepoint/keyv'",
            `from ${JSON.stringify(source('../../src/adapters/keyv/index.ts'))}`,
          )
          .replace("from 'savepoint'", `from ${JSON.stringify(source('../../src/index.ts'))}`)
          .replace("'sqlite:./data/cache.db'", JSON.stringify(`sqlite:${join(dir, 'cache.db')}`))
          .replace("'sqlite:./data/game.db'", JSON.stringify(`sqlite:${join(dir, 'game.db')}`)),
      'ada, both, stored, keys',
    );
    expect(result.ada).toEqual({ name: 'Ada', level: 3 });
    expect(result.both).toEqual([
      { name: 'Ada', level: 3 },
      { name: 'Grace', level: 5 },
    ]);
    expect(JSON.parse(result.stored?.value as string)).toEqual({ value: { user: 'ada' } });
    expect(result.keys).toEqual(['sid-1']);
  });
});

describe('docs/boardgame-io.md', () => {
  it('serves boardgame.io on the storage; its matches are in the store after shutdown', async () => {
    const port = await freePort();
    const url = `sqlite:${join(dir, 'matches.db')}`;
    const { shutdown } = await runExample<{ shutdown: () => Promise<void> }>(
      'boardgame-io.md',
      (code) =>
        code
          .replace(
            "from 'savepoint/boardgame.io'",
            `from ${JSON.stringify(source('../../src/adapters/boardgame-io/index.ts'))}`,
          )
          .replace(
            "from './tic-tac-toe.js'",
            `from ${JSON.stringify(source('../../examples/boardgame-io/tic-tac-toe.ts'))}`,
          )
          .replace("'sqlite:./data/matches.db'", JSON.stringify(url))
          .replace('server.run(8000)', `server.run(${port})`),
      'shutdown',
    );
    let matchID: string;
    try {
      const base = `http://127.0.0.1:${port}/games/tic-tac-toe`;
      const post = (path: string, body: unknown) =>
        fetch(`${base}${path}`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(body),
        }).then((response) => response.json() as Promise<Record<string, string>>);
      matchID = (await post('/create', { numPlayers: 2 })).matchID as string;
      expect(
        (await post(`/${matchID}/join`, { playerID: '0', playerName: 'ada' })).playerCredentials,
      ).toBeTypeOf('string');
    } finally {
      await shutdown();
    }
    const reopened = new SavepointStorage({ url });
    const { metadata, state } = await reopened.fetch(matchID, { metadata: true, state: true });
    expect((metadata as Server.MatchData).players[0]?.name).toBe('ada');
    expect(state._stateID).toBe(0);
    expect(await reopened.listMatches({ gameName: 'tic-tac-toe' })).toEqual([matchID]);
    await reopened.close();
  });
});
