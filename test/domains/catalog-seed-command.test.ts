import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { text } from 'node:stream/consumers';
import { afterAll, describe, expect, it } from 'vitest';
import { seedCommand } from '../../src/cli/commands/seed.js';
import { Catalog, seedAtStart } from '../../src/domains/catalog/catalog.js';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { Store } from '../../src/engine/store.js';

const EXAMPLES = path.resolve(import.meta.dirname, '../../examples/seeds');
const directory = fs.mkdtempSync(path.join(os.tmpdir(), 'savepoint-seed-command-'));
afterAll(() => fs.rmSync(directory, { recursive: true, force: true }));

/** Runs `savepoint seed ARGS` in-process and answers what it printed. */
async function seed(args: string[]): Promise<string> {
  const out = new PassThrough();
  const err = new PassThrough();
  const command = seedCommand({ out, err }).exitOverride();
  await command.parseAsync(args, { from: 'user' });
  out.end();
  err.end();
  return text(out);
}

describe('savepoint seed', () => {
  it('seeds a store a running server uses, which serves the new content within a second', async () => {
    const file = path.join(directory, 'server.db');
    const server = new Store(await openSqliteDriver({ path: file }));
    const catalog = new Catalog(server);
    expect(await seedAtStart(server, { seedDir: undefined })).toBeUndefined();
    expect(await seedAtStart(server, { seedDir: EXAMPLES })).toMatchObject({ committed: true, version: 1 });
    expect((await catalog.kind('races'))?.count).toBe(6);

    const dir = fs.mkdtempSync(path.join(directory, 'seeds-'));
    for (const name of fs.readdirSync(EXAMPLES))
      fs.copyFileSync(path.join(EXAMPLES, name), path.join(dir, name));
    const unchanged = await seed([dir, '--database', `sqlite:${file}`]);
    expect(unchanged).toMatch(/catalog unchanged at version 1/);

    const races = JSON.parse(fs.readFileSync(path.join(dir, 'races.json'), 'utf8'));
    races.data.push({ id: 'lizardfolk', name: 'Lizardfolk', modifiers: { str: 1, dex: 0, int: -1, con: 2 } });
    fs.writeFileSync(path.join(dir, 'races.json'), JSON.stringify(races));
    const started = performance.now();
    const changed = await seed([dir, '--database', `sqlite:${file}`]);
    expect(changed).toMatch(/catalog version 2: 1 kinds changed/);
    expect(changed).toMatch(/races: revision 2 \(1 added, 0 updated, 0 removed\)/);
    let count = (await catalog.kind('races'))?.count;
    while (count !== 7 && performance.now() - started < 1000) {
      await new Promise((resolve) => setTimeout(resolve, 25));
      count = (await catalog.kind('races'))?.count;
    }
    expect(count).toBe(7);
    expect(await catalog.record('races', 'lizardfolk')).toMatchObject({ name: 'Lizardfolk' });

    fs.writeFileSync(path.join(dir, 'broken.json'), '[]');
    await expect(seed([dir, '--database', `sqlite:${file}`])).rejects.toThrow(/broken\.json/);
    catalog.close();
    await server.close();
  });
});
