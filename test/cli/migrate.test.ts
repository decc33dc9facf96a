/**
 * `savepoint migrate --to URL`: SQLite → PostgreSQL → SQLite copies every record exactly and
 * verifies both sides' checksums; a non-empty target is refused without --force and replaced
 * atomically with it; a copy that does not verify is reported.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit.js';
import { openMigrationTarget, runMigrate } from '../../src/cli/commands/migrate.js';
import type { CommandOutput } from '../../src/cli/options.js';
import { loadConfig } from '../../src/config.js';
import { openPostgresDriver } from '../../src/drivers/postgres/postgres-driver.js';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { Driver, RecordDump } from '../../src/engine/driver.js';
import { digestOf } from '../../src/engine/dump-format.js';
import { Store } from '../../src/engine/store.js';
import { SavepointError } from '../../src/errors.js';
import { collect, populate, START } from '../../src/testing/dump-fixture.js';
import { postgresAvailable, postgresUrl, uniqueName } from '../support/services.js';
import { ensureBuilt, runCli } from './cli-harness.js';

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

async function expectCode(promise: Promise<unknown>, code: string): Promise<SavepointError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(SavepointError);
  expect((error as SavepointError).code).toBe(code);
  return error as SavepointError;
}

const isAudit = (record: RecordDump): boolean =>
  (record.kind === 'stream' || record.kind === 'event') && record.stream === 'audit';

const pgAvailable = await postgresAvailable();
const directory = mkdtempSync(join(tmpdir(), 'savepoint-migrate-'));
const schemas: string[] = [];
const clock = new ManualClock(START);
let sourceFile = '';
let sourceRecords: RecordDump[] = [];
let files = 0;

async function sqliteStore(file = join(directory, `store-${++files}.db`)): Promise<Store> {
  return new Store(await openSqliteDriver({ path: file }), { clock: clock.now });
}

/** A SQLite store whose exports pass through `lose` (a target whose copy cannot verify). */
async function lossyStore(name: string, lose: (records: RecordDump[]) => RecordDump[]): Promise<Store> {
  const driver = await openSqliteDriver({ path: join(directory, name) });
  const lossy = new Proxy(driver, {
    get(target, property) {
      if (property === 'exportRecords') {
        return (now: number) =>
          (async function* () {
            yield lose(await collect(target.exportRecords(now)));
          })();
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  }) as Driver;
  return new Store(lossy, { clock: clock.now });
}

async function postgresStore(): Promise<Store> {
  const schema = uniqueName('sp_migrate');
  schemas.push(schema);
  return new Store(await openPostgresDriver({ url: postgresUrl, schema }), { clock: clock.now });
}

beforeAll(async () => {
  sourceFile = join(directory, 'source.db');
  const source = await sqliteStore(sourceFile);
  await populate(source, clock, 1500);
  sourceRecords = await collect(source.exportRecords());
  await source.close();
});

afterAll(async () => {
  rmSync(directory, { recursive: true, force: true });
  if (schemas.length === 0) return;
  const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
  for (const schema of schemas) await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
  await sql.end();
});

describe('migrate', () => {
  it('copies SQLite into SQLite exactly and verifies it', async () => {
    const source = await sqliteStore(sourceFile);
    const target = await sqliteStore();
    const output = capture();
    const report = await runMigrate(source, target, output);
    expect(await collect(target.exportRecords())).toEqual(sourceRecords);
    expect(report.checksum).toBe((await digestOf(source.exportRecords())).checksum);
    expect(output.out.text).toMatch(
      /^migrated \d+ records \(\d+ documents, 2 streams, 4 events, 5 boards, 2607 members\) from sqlite to sqlite in \d+\.\d s; verified: both hash to sha256:[0-9a-f]{64}\n$/,
    );
    expect(output.err.text).toMatch(/^copying: \d+ of \d+ records$/m);
    expect(output.err.text).toMatch(/^verifying: \d+ of \d+ records$/m);
    await Promise.all([source.close(), target.close()]);
  });

  it.skipIf(!pgAvailable)('round-trips SQLite → PostgreSQL → SQLite exactly', async () => {
    const source = await sqliteStore(sourceFile);
    const middle = await postgresStore();
    const there = await runMigrate(source, middle, capture());
    expect(await collect(middle.exportRecords())).toEqual(sourceRecords);
    const back = await sqliteStore();
    const output = capture();
    const again = await runMigrate(middle, back, output);
    expect(again.checksum).toBe(there.checksum);
    expect(await collect(back.exportRecords())).toEqual(sourceRecords);
    expect(output.out.text).toMatch(/from postgres to sqlite/);
    // Commits continue on the copy.
    const result = await middle.commit([
      { op: 'patch', collection: 'counter', key: 'c1', patch: { $inc: { n: 1 } }, expectedVersion: 5 },
      { op: 'append', stream: 'game:g1', events: [{ type: 'end' }], expectedHead: 3 },
    ]);
    expect(result.results[0]).toMatchObject({ document: { version: 6, value: { n: 5 } } });
    expect(result.results[1]).toMatchObject({ firstSeq: 4 });
    await Promise.all([source.close(), middle.close(), back.close()]);
  });

  it('refuses a non-empty target without --force, and replaces it with --force', async () => {
    const source = await sqliteStore(sourceFile);
    const target = await sqliteStore();
    await target.commit([{ op: 'put', collection: 'mine', key: 'k', value: 'precious' }]);
    const error = await expectCode(runMigrate(source, target, capture()), 'VERSION_CONFLICT');
    expect(error.message).toMatch(/target store \(sqlite\) is not empty: it holds 1 document.*--force/);
    expect((await target.get('mine', 'k'))?.value).toBe('precious');
    await runMigrate(source, target, capture(), { force: true });
    expect(await target.get('mine', 'k')).toBeUndefined();
    expect(await collect(target.exportRecords())).toEqual(sourceRecords);
    await Promise.all([source.close(), target.close()]);
  });

  it('reports a copy that does not verify', async () => {
    const source = await sqliteStore(sourceFile);
    // A target whose export loses its last record: the verification must notice.
    const target = await lossyStore('lossy.db', (records) => records.slice(0, -1));
    const error = await expectCode(runMigrate(source, target, capture()), 'CORRUPT_DATA');
    expect(error.message).toMatch(
      /^Verification failed: the source read .* but the target holds .*members \(sha256:/,
    );
    await Promise.all([source.close(), target.close()]);
  });

  it('audited: a target holding only audit entries counts as empty, and keeps them', async () => {
    const source = await sqliteStore(sourceFile);
    const target = await sqliteStore();
    await target.commit([
      {
        op: 'append',
        stream: 'audit',
        events: [{ type: 'import-rejected', data: { code: 'CORRUPT_DATA' } }],
      },
    ]);
    const report = await runMigrate(source, target, capture(), { audit: true, from: 'sqlite:source.db' });
    expect(report.checksum).toBe((await digestOf(source.exportRecords())).checksum);
    const records = await collect(target.exportRecords());
    expect(records.filter((r) => !isAudit(r))).toEqual(sourceRecords.filter((r) => !isAudit(r)));
    expect(await readAudit(target)).toEqual([
      { seq: 1, type: 'seeded', data: null, at: START + 57 },
      { seq: 2, type: 'import-rejected', data: { code: 'CORRUPT_DATA', originalSeq: 1 }, at: clock.now() },
      {
        seq: 3,
        type: 'migrate',
        data: {
          from: 'sqlite:source.db',
          sourceDriver: 'sqlite',
          counts: report.counts,
          checksum: report.checksum,
          force: false,
          replaced: null,
        },
        at: clock.now(),
      },
    ]);
    await Promise.all([source.close(), target.close()]);
  });

  it('audited: verifies a source without an audit log into a target with one', async () => {
    const source = await sqliteStore();
    await source.commit([{ op: 'put', collection: 'c', key: 'k', value: 1 }]);
    const target = await sqliteStore();
    await target.commit([{ op: 'append', stream: 'audit', events: [{ type: 'note' }] }]);
    await runMigrate(source, target, capture(), { audit: true });
    expect(await collect(target.exportRecords())).toEqual([
      expect.objectContaining({ kind: 'document', collection: 'c', key: 'k', json: '1', version: 1 }),
      { kind: 'stream', stream: 'audit', head: 2, expiresAt: null },
      {
        kind: 'event',
        stream: 'audit',
        seq: 1,
        type: 'note',
        json: '{"originalSeq":1,"data":null}',
        at: clock.now(),
      },
      expect.objectContaining({ kind: 'event', stream: 'audit', seq: 2, type: 'migrate' }),
    ]);
    await Promise.all([source.close(), target.close()]);
  });

  it('audited: records a failed verification on the target', async () => {
    const source = await sqliteStore(sourceFile);
    // Loses the first document on export: the verification must notice, and the entry say so.
    const target = await lossyStore('lossy-audited.db', (records) => records.slice(1));
    await expectCode(runMigrate(source, target, capture(), { audit: true }), 'CORRUPT_DATA');
    const audit = await readAudit(target);
    expect(audit.at(-1)).toMatchObject({
      type: 'migrate-rejected',
      data: {
        from: 'sqlite',
        sourceDriver: 'sqlite',
        force: false,
        code: 'CORRUPT_DATA',
        message: expect.stringMatching(/^Verification failed/),
      },
    });
    await Promise.all([source.close(), target.close()]);
  });

  it('refuses a memory target and the store being migrated', async () => {
    const config = loadConfig({ env: { DATABASE_URL: `sqlite:${sourceFile}` } });
    await expectCode(openMigrationTarget('memory:', config, undefined), 'INVALID_INPUT');
    const error = await expectCode(
      openMigrationTarget(`sqlite://${sourceFile}`, config, undefined),
      'INVALID_INPUT',
    );
    expect(error.message).toMatch(/names the store being migrated/);
  });
});

describe.skipIf(!pgAvailable)('the real CLI', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it('migrates SQLite to PostgreSQL and refuses to do it twice without --force', async () => {
    const schema = uniqueName('sp_migrate_cli');
    schemas.push(schema);
    const to = `${postgresUrl}?schema=${schema}`;
    const first = runCli(['migrate', '--database', `sqlite:${sourceFile}`, '--to', to]);
    expect(await first.exited).toBe(0);
    expect(first.stdout()).toMatch(
      /^migrated \d+ records .* from sqlite to postgres in .*; verified: both hash to sha256:/,
    );
    const second = runCli(['migrate', '--database', `sqlite:${sourceFile}`, '--to', to]);
    expect(await second.exited).toBe(1);
    expect(second.stderr()).toMatch(/^error: The target store \(postgres\) is not empty/m);
    const forced = runCli(['migrate', '--database', `sqlite:${sourceFile}`, '--to', to, '--force']);
    expect(await forced.exited).toBe(0);

    // The data is the source's exactly; the target's audit log kept its entries through the forced
    // copy, after the source's own, and gained one for each run.
    const check = new Store(await openPostgresDriver({ url: postgresUrl, schema }), { clock: clock.now });
    const records = await collect(check.exportRecords());
    expect(records.filter((r) => !isAudit(r))).toEqual(sourceRecords.filter((r) => !isAudit(r)));
    const audit = await readAudit(check);
    expect(audit.map((e) => [e.seq, e.type])).toEqual([
      [1, 'seeded'],
      [2, 'migrate'],
      [3, 'migrate-rejected'],
      [4, 'migrate'],
    ]);
    const from = `sqlite:${sourceFile}`;
    // The CLI judges liveness by the real clock, before the fixture's short TTLs run out.
    const reader = await sqliteStore(sourceFile);
    const { counts, checksum } = await digestOf(reader.exportRecords({ now: Date.now() }));
    await reader.close();
    expect(counts).toMatchObject({ streams: 3, events: 5, boards: 5, members: 2607 });
    // The target without its audit stream (1 stream, the source's entry there).
    const outside = { ...counts, streams: counts.streams - 1, events: counts.events - 1 };
    expect(audit[1]?.data).toEqual({
      from,
      sourceDriver: 'sqlite',
      counts,
      checksum,
      force: false,
      replaced: null,
      originalSeq: 2,
    });
    expect(audit[2]?.data).toEqual({
      from,
      sourceDriver: 'sqlite',
      force: false,
      code: 'VERSION_CONFLICT',
      message: expect.stringMatching(/^The target store \(postgres\) is not empty/),
      details: outside,
      originalSeq: 3,
    });
    expect(audit[3]?.data).toEqual({
      from,
      sourceDriver: 'sqlite',
      counts,
      checksum,
      force: true,
      replaced: outside,
    });
    await check.close();
  }, 60_000);
});
