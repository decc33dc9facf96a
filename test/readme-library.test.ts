/**
 * The README's library example runs as written (but for the import path and the file location):
 * what a newcomer copies first must work.
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openSavepoint } from '../src/index.js';

describe('the README library example', () => {
  it('runs and leaves what it says in the store', async () => {
    const readme = await readFile(new URL('../README.md', import.meta.url), 'utf8');
    const example = /```ts\n([\s\S]*?)```/.exec(readme)?.[1];
    expect(example).toContain("from 'savepoint'");
    const dir = await mkdtemp(join(tmpdir(), 'savepoint-readme-lib-'));
    const database = join(dir, 'game.db');
    try {
      const source = (example as string)
        .replace(
          "from 'savepoint'",
          `from ${JSON.stringify(new URL('../src/index.ts', import.meta.url).pathname)}`,
        )
        .replace("'sqlite:./data/game.db'", JSON.stringify(`sqlite:${database}`));
      // Next to this file, so that vitest's TypeScript transform applies to it.
      const script = join(import.meta.dirname, `.readme-example-${process.pid}.ts`);
      await writeFile(script, `${source}\nexport { missed };\n`);
      try {
        const { missed } = (await import(pathToFileURL(script).href)) as { missed: Array<{ type: string }> };
        expect(missed.map((event) => event.type)).toEqual(['bet']);
      } finally {
        await rm(script, { force: true });
      }
      const reopened = await openSavepoint({ url: `sqlite:${database}` });
      expect((await reopened.store.get('lifetime', 'grace'))?.value).toEqual({ chipsBet: 20 });
      expect((await reopened.games.restore('table-1')).state).toEqual({ pot: 40 });
      expect((await reopened.store.boardMember('chips', 'grace'))?.score).toBe(20);
      await reopened.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
