/**
 * `savepoint export` and `savepoint import`: the file format (header, checksum, one record a
 * line), exact round trips through the command functions and through the real CLI, and refusals
 * that write nothing (a damaged, truncated or foreign file, a non-empty target).
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { readAudit } from '../../src/audit.js';
import { runExport } from '../../src/cli/commands/export.js';
import { runImport } from '../../src/cli/commands/import.js';
import type { CommandOutput } from '../../src/cli/options.js';
import { openMemoryDriver } from '../../src/drivers/memory/memory-driver.js';
import { openPostgresDriver } from '../../src/drivers/postgres/postgres-driver.js';
import { openSqliteDriver } from '../../src/drivers/sqlite/sqlite-driver.js';
import { ManualClock } from '../../src/engine/clock.js';
import type { RecordDump } from '../../src/engine/driver.js';
import { readExportPages, verifyExportFile } from '../../src/engine/dump-file.js';
import { HEADER_BYTES } from '../../src/engine/dump-format.js';
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

const directory = mkdtempSync(join(tmpdir(), 'savepoint-export-'));
const path = (name: string): string => join(directory, name);

async function memoryStore(): Promise<Store> {
  return new Store(await openMemoryDriver(), { clock: new ManualClock(START + 10_000).now });
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

const EMPTY = { documents: 0, streams: 0, events: 0, boards: 0, members: 0 };

let source: Store;
let sourceRecords: RecordDump[];
let exportedAt = '';
const exported = path('export.ndjson');

beforeAll(async () => {
  const clock = new ManualClock(START);
  source = new Store(await openMemoryDriver(), { clock: clock.now });
  await populate(source, clock, 600);
  sourceRecords = await collect(source.exportRecords());
  exportedAt = new Date(clock.now()).toISOString();
  await runExport(source, capture(), { out: exported });
});

const pgAvailable = await postgresAvailable();
const schemas: string[] = [];

afterAll(async () => {
  await source.close();
  rmSync(directory, { recursive: true, force: true });
  if (schemas.length === 0) return;
  const sql = postgres(postgresUrl, { max: 1, onnotice: () => {} });
  for (const schema of schemas) await sql`DROP SCHEMA IF EXISTS ${sql(schema)} CASCADE`;
  await sql.end();
});

const isAudit = (record: RecordDump): boolean =>
  (record.kind === 'stream' || record.kind === 'event') && record.stream === 'audit';

/** The export's header line, parsed. */
function headerOf(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, 'utf8').slice(0, HEADER_BYTES));
}

/** What the `import` entry of the export says, imported without --force. */
function importedEntry() {
  const header = headerOf(exported);
  return {
    file: exported,
    formatVersion: 1,
    exportedAt,
    exportedFrom: 'memory',
    checksum: header.checksum,
    counts: header.counts,
    force: false,
    replaced: null,
  };
}

/** What an `import-rejected` entry says about `file` (hex SHA-256 of its bytes, as sha256sum prints). */
function rejectedFile(file: string, header: Record<string, unknown> | null) {
  const bytes = readFileSync(file);
  return {
    file,
    size: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
    header,
    force: false,
  };
}

/** The file with its lines changed by `edit` (lines without their newlines; line 0 is the header). */
function edited(name: string, edit: (lines: string[]) => string[] | string): string {
  const lines = readFileSync(exported, 'utf8').split('\n').slice(0, -1);
  const result = edit(lines);
  const target = path(name);
  writeFileSync(target, typeof result === 'string' ? result : `${result.join('\n')}\n`);
  return target;
}

describe('savepoint export', () => {
  it('writes a header with counts and checksum, then one record a line', async () => {
    const text = readFileSync(exported, 'utf8');
    const lines = text.split('\n');
    expect(lines.at(-1)).toBe('');
    const headerLine = lines[0] as string;
    expect(Buffer.byteLength(headerLine) + 1).toBe(HEADER_BYTES);
    const header = JSON.parse(headerLine);
    expect(header).toEqual({
      format: 'savepoint-export',
      formatVersion: 1,
      exportedAt,
      driver: 'memory',
      counts: {
        documents: sourceRecords.filter((r) => r.kind === 'document').length,
        streams: 2,
        events: 4,
        boards: 5,
        members: 5 + 2 + 600 + 1100,
      },
      checksum: expect.stringMatching(/^sha256:[0-9a-f]{64}$/),
    });
    const body = text.slice(HEADER_BYTES);
    expect(`sha256:${createHash('sha256').update(body).digest('hex')}`).toBe(header.checksum);
    const records = lines.slice(1, -1).map((line) => JSON.parse(line));
    expect(records).toHaveLength(sourceRecords.length);
    expect(records[0]).toMatchObject({
      kind: 'document',
      collection: 'counter',
      key: 'c1',
      version: 5,
      value: { n: 4 },
    });
    expect(records.find((r) => r.kind === 'event')).toEqual({
      kind: 'event',
      stream: 'audit',
      seq: 1,
      type: 'seeded',
      at: START + 57,
      data: null,
    });
    expect(records.find((r) => r.kind === 'member')).toEqual({
      kind: 'member',
      board: 'global',
      member: 'ana',
      score: 10,
      reachedAt: START + 70,
      metadata: { name: 'Ana' },
    });
    // Nothing is left behind next to the file.
    expect(readdirSync(directory).filter((name) => name.endsWith('.tmp'))).toEqual([]);
  });

  it('writes to stdout once complete, with the summary on stderr', async () => {
    const output = capture();
    const header = await runExport(source, output);
    expect(header.exportedAt).toBe(exportedAt);
    expect(output.out.text).toBe(readFileSync(exported, 'utf8'));
    expect(output.err.text).toMatch(/^exporting: \d+ of \d+ records$/m);
    expect(output.err.text).toMatch(
      new RegExp(
        `^exported ${sourceRecords.length} records \\(\\d+ documents, 2 streams, 4 events, 5 boards, 1707 members\\) from memory; sha256:[0-9a-f]{64}$`,
        'm',
      ),
    );
  });

  it('exports the same bytes twice from the same contents', async () => {
    const again = path('again.ndjson');
    const output = capture();
    await runExport(source, output, { out: again });
    expect(readFileSync(again, 'utf8')).toBe(readFileSync(exported, 'utf8'));
    expect(output.out.text).toMatch(/^exported \d+ records .* to .*again\.ndjson; sha256:/);
  });
});

describe('savepoint import', () => {
  it('round-trips exactly into an empty store, with progress', async () => {
    const target = await memoryStore();
    const output = capture();
    const report = await runImport(target, exported, output);
    expect(await collect(target.exportRecords())).toEqual(sourceRecords);
    expect(report.counts.members).toBe(1707);
    expect(output.err.text).toMatch(/^verifying: \d+ of \d+ records$/m);
    expect(output.err.text).toMatch(/^importing: \d+ of \d+ records$/m);
    expect(output.out.text).toMatch(
      /^imported \d+ records \(.*\) from .*export\.ndjson, exported at .* from memory\n$/,
    );
    await target.close();
  });

  it('round-trips into SQLite and back out byte for byte', async () => {
    const target = new Store(await openSqliteDriver({ path: path('target.db') }), {
      clock: new ManualClock(START + 10_000).now,
    });
    await runImport(target, exported, capture());
    const back = path('back.ndjson');
    const header = await runExport(target, capture(), { out: back, now: START + 1_000 });
    expect(header.driver).toBe('sqlite');
    const strip = (text: string) => text.slice(HEADER_BYTES);
    expect(strip(readFileSync(back, 'utf8'))).toBe(strip(readFileSync(exported, 'utf8')));
    await target.close();
  });

  const refusals: Array<[string, () => string, string, RegExp]> = [
    [
      'a changed value (checksum mismatch)',
      () =>
        edited('changed.ndjson', (lines) =>
          lines.map((line) => line.replace('"value":{"n":4}', '"value":{"n":5}')),
        ),
      'CORRUPT_DATA',
      /does not match its checksum/,
    ],
    [
      'a file cut at a line end',
      () => edited('cut.ndjson', (lines) => lines.slice(0, -40)),
      'CORRUPT_DATA',
      /holds .* but its header says .*truncated or damaged/,
    ],
    [
      'a file cut inside a line',
      () => edited('cut-inside.ndjson', (lines) => `${lines.join('\n')}\n`.slice(0, -30)),
      'INVALID_INPUT',
      /is not JSON \(is the file truncated or damaged\?\)/,
    ],
    [
      'a file cut inside a stream',
      () =>
        edited('cut-stream.ndjson', (lines) =>
          lines.slice(0, lines.findIndex((l) => l.includes('"stream":"game:g1","seq":1')) + 1),
        ),
      'CORRUPT_DATA',
      /ends early or is damaged/,
    ],
    [
      'a missing header',
      () => edited('headless.ndjson', (lines) => lines.slice(1)),
      'INVALID_INPUT',
      /not a Savepoint export/,
    ],
    [
      'a newer format version',
      () =>
        edited('newer.ndjson', (lines) => [
          (lines[0] as string).replace('"formatVersion":1', '"formatVersion":2'),
          ...lines.slice(1),
        ]),
      'INVALID_INPUT',
      /format version 2.*Upgrade Savepoint/,
    ],
    ['an empty file', () => edited('empty.ndjson', () => ''), 'INVALID_INPUT', /the file is empty/],
    [
      'records out of order',
      () =>
        edited('swapped.ndjson', (lines) => [
          lines[0] as string,
          lines[2] as string,
          lines[1] as string,
          ...lines.slice(3),
        ]),
      'INVALID_INPUT',
      /out of order or repeated/,
    ],
    [
      'a record with a missing field',
      () =>
        edited('missing.ndjson', (lines) =>
          lines.map((line, i) => (i === 3 ? line.replace(/"version":\d+,/, '') : line)),
        ),
      'INVALID_INPUT',
      /line 4 .*"version" is missing/,
    ],
    ['no such file', () => path('nowhere.ndjson'), 'INVALID_INPUT', /No such file/],
  ];

  it.each(refusals)('refuses %s and writes nothing', async (_name, make, code, message) => {
    const target = await memoryStore();
    const error = await expectCode(runImport(target, make(), capture()), code);
    expect(error.message).toMatch(message);
    expect(await target.countRecords()).toEqual(EMPTY);
    await target.close();
  });

  it('rolls back when the file changes between verification and import', async () => {
    const file = edited('changing.ndjson', (lines) => lines);
    const header = await verifyExportFile(file);
    writeFileSync(file, readFileSync(file, 'utf8').replace('"value":{"n":4}', '"value":{"n":6}'));
    const target = await memoryStore();
    await expectCode(target.importRecords(readExportPages(file, header)), 'CORRUPT_DATA');
    expect(await target.countRecords()).toEqual(EMPTY);
    await target.close();
  });

  it('refuses a non-empty target, and replaces it atomically with force', async () => {
    const target = await memoryStore();
    await target.commit([{ op: 'put', collection: 'mine', key: 'k', value: 'precious' }]);
    const error = await expectCode(runImport(target, exported, capture()), 'VERSION_CONFLICT');
    expect(error.message).toMatch(/not empty: it holds 1 document, 0 streams.*pass --force/);
    expect((await target.get('mine', 'k'))?.value).toBe('precious');
    // A damaged file with --force changes nothing either.
    const damaged = edited('damaged.ndjson', (lines) => lines.slice(0, -3));
    await expectCode(runImport(target, damaged, capture(), { force: true }), 'CORRUPT_DATA');
    expect((await target.get('mine', 'k'))?.value).toBe('precious');
    const output = capture();
    await runImport(target, exported, output, { force: true });
    expect(await collect(target.exportRecords())).toEqual(sourceRecords);
    expect(output.out.text).toMatch(/the previous contents were replaced/);
    await target.close();
  });
});

describe('savepoint import, audited (as the CLI runs it)', () => {
  it("appends one import entry after the file's own audit entries", async () => {
    const target = await memoryStore();
    const report = await runImport(target, exported, capture(), { audit: true });
    const header = headerOf(exported);
    const records = await collect(target.exportRecords());
    expect(records.filter((r) => !isAudit(r))).toEqual(sourceRecords.filter((r) => !isAudit(r)));
    const audit = await readAudit(target);
    expect(audit).toEqual([
      { seq: 1, type: 'seeded', data: null, at: START + 57 },
      { seq: 2, type: 'import', at: START + 10_000, data: importedEntry() },
    ]);
    expect(report.counts).toEqual(header.counts);
    await target.close();
  });

  it('with --force, says what it replaced', async () => {
    const target = await memoryStore();
    await target.commit([{ op: 'put', collection: 'mine', key: 'k', value: 'old' }]);
    await runImport(target, exported, capture(), { audit: true, force: true });
    expect(await target.get('mine', 'k')).toBeUndefined();
    const [, entry] = await readAudit(target);
    expect(entry?.type).toBe('import');
    expect(entry?.data).toMatchObject({
      force: true,
      replaced: { documents: 1, streams: 0, events: 0, boards: 0, members: 0 },
    });
    await target.close();
  });

  it('records a missing file as rejected, with no size, hash or header', async () => {
    const target = await memoryStore();
    const missing = path('absent.ndjson');
    await expectCode(runImport(target, missing, capture(), { audit: true }), 'INVALID_INPUT');
    expect(await readAudit(target)).toEqual([
      {
        seq: 1,
        type: 'import-rejected',
        at: START + 10_000,
        data: {
          file: missing,
          size: null,
          sha256: null,
          header: null,
          force: false,
          code: 'INVALID_INPUT',
          message: `No such file: ${missing}`,
        },
      },
    ]);
    expect(await target.countRecords()).toEqual({ ...EMPTY, streams: 1, events: 1 });
    await target.close();
  });
});

describe('the real CLI, audited', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  /**
   * A refused file leaves only its `import-rejected` entry; the fixed file then imports without
   * --force, keeping that entry after the file's own; a second import is refused and recorded too.
   */
  async function refuseThenFix(
    database: string,
    open: () => Promise<Store>,
    damaged: string,
    refusal: { readonly code: string; readonly message: RegExp },
  ): Promise<void> {
    const refused = runCli(['import', damaged, '--database', database]);
    expect(await refused.exited).toBe(1);
    expect(refused.stderr()).toMatch(new RegExp(`^error: .*${refusal.message.source}`, 'm'));
    let store = await open();
    const [rejected] = await readAudit(store);
    expect(rejected?.data).toEqual({
      ...rejectedFile(damaged, headerOf(exported)),
      code: refusal.code,
      message: expect.stringMatching(refusal.message),
    });
    // Nothing of the file is in the store: only the entry.
    expect(await collect(store.exportRecords({ now: START + 1_000 }))).toEqual([
      { kind: 'stream', stream: 'audit', head: 1, expiresAt: null },
      {
        kind: 'event',
        stream: 'audit',
        seq: 1,
        type: 'import-rejected',
        json: JSON.stringify(rejected?.data),
        at: rejected?.at,
      },
    ]);
    await store.close();

    const fixed = runCli(['import', exported, '--database', database]);
    expect(await fixed.exited).toBe(0);
    expect(fixed.stdout()).toMatch(/^imported \d+ records/);
    store = await open();
    const records = await collect(store.exportRecords({ now: START + 1_000 }));
    expect(records.filter((r) => !isAudit(r))).toEqual(sourceRecords.filter((r) => !isAudit(r)));
    expect(records.find((r) => r.kind === 'stream' && r.stream === 'audit')).toEqual({
      kind: 'stream',
      stream: 'audit',
      head: 3,
      expiresAt: null,
    });
    const header = headerOf(exported);
    const audit = await readAudit(store);
    expect(audit.slice(0, 2)).toEqual([
      { seq: 1, type: 'seeded', data: null, at: START + 57 },
      {
        seq: 2,
        type: 'import-rejected',
        data: { ...(rejected?.data as object), originalSeq: 1 },
        at: rejected?.at,
      },
    ]);
    expect(audit[2]).toMatchObject({ seq: 3, type: 'import', data: importedEntry() });
    expect(audit[2]?.at).toBeGreaterThanOrEqual(rejected?.at as number);
    await store.close();

    // The data makes it non-empty now (the audit log does not): refused, and recorded.
    const again = runCli(['import', exported, '--database', database]);
    expect(await again.exited).toBe(1);
    expect(again.stderr()).toMatch(
      /^error: The target store \(\w+\) is not empty: it holds \d+ documents, 1 stream, 3 events, 5 boards, 1707 members \(audit log entries do not count\)/m,
    );
    store = await open();
    const last = (await readAudit(store))[3];
    expect(last).toMatchObject({
      seq: 4,
      type: 'import-rejected',
      data: {
        ...rejectedFile(exported, header),
        code: 'VERSION_CONFLICT',
        details: { streams: 1, events: 3, boards: 5, members: 1707 },
      },
    });
    expect(await store.streamHead('audit')).toBe(4);
    await store.close();
  }

  it('SQLite: a damaged file is recorded as rejected, and the fixed one imports without --force', async () => {
    const to = path('cli-audited.db');
    const damaged = edited('cli-damaged.ndjson', (lines) =>
      lines.map((line) => line.replace('"value":{"n":4}', '"value":{"n":5}')),
    );
    await refuseThenFix(
      `sqlite:${to}`,
      async () => new Store(await openSqliteDriver({ path: to }), { clock: new ManualClock(START).now }),
      damaged,
      { code: 'CORRUPT_DATA', message: /does not match its checksum/ },
    );
  }, 60_000);

  it.skipIf(!pgAvailable)(
    'PostgreSQL: a truncated file is recorded as rejected, and the whole one imports without --force',
    async () => {
      const schema = uniqueName('sp_import_cli');
      schemas.push(schema);
      const truncated = edited('cli-truncated.ndjson', (lines) => lines.slice(0, -40));
      await refuseThenFix(
        `${postgresUrl}?schema=${schema}`,
        async () =>
          new Store(await openPostgresDriver({ url: postgresUrl, schema }), {
            clock: new ManualClock(START).now,
          }),
        truncated,
        { code: 'CORRUPT_DATA', message: /truncated or damaged/ },
      );
    },
    60_000,
  );
});

describe('the real CLI', () => {
  beforeAll(() => ensureBuilt(), 120_000);

  it('exports a SQLite store to a file and stdout, and imports it into another', async () => {
    const from = path('cli-from.db');
    const store = new Store(await openSqliteDriver({ path: from }), { clock: new ManualClock(START).now });
    await runImport(store, exported, capture());
    await store.close();

    const file = path('cli.ndjson');
    const exporting = runCli(['export', '--database', `sqlite:${from}`, '--out', file]);
    expect(await exporting.exited).toBe(0);
    expect(exporting.stdout()).toMatch(/^exported \d+ records .* from sqlite to .*cli\.ndjson; sha256:/);
    const toStdout = runCli(['export', '--database', `sqlite:${from}`]);
    expect(await toStdout.exited).toBe(0);
    expect(toStdout.stdout().slice(HEADER_BYTES)).toBe(readFileSync(file, 'utf8').slice(HEADER_BYTES));

    const to = path('cli-to.db');
    const importing = runCli(['import', file, '--database', `sqlite:${to}`]);
    expect(await importing.exited).toBe(0);
    expect(importing.stdout()).toMatch(/^imported \d+ records/);
    expect(importing.stderr()).toMatch(/importing: \d+ of \d+ records/);
    const again = runCli(['import', file, '--database', `sqlite:${to}`]);
    expect(await again.exited).toBe(1);
    expect(again.stderr()).toMatch(/^error: The target store \(sqlite\) is not empty/m);

    // The data is the file's exactly; the audit log gained the import and the refusal.
    const check = new Store(await openSqliteDriver({ path: to }), { clock: new ManualClock(START).now });
    const records = await collect(check.exportRecords({ now: START + 1_000 }));
    expect(records.filter((r) => !isAudit(r))).toEqual(sourceRecords.filter((r) => !isAudit(r)));
    expect((await readAudit(check)).map((e) => [e.seq, e.type])).toEqual([
      [1, 'seeded'],
      [2, 'import'],
      [3, 'import-rejected'],
    ]);
    await check.close();

    const missing = runCli(['export', '--database', `sqlite:${path('missing.db')}`]);
    expect(await missing.exited).toBe(1);
    expect(missing.stderr()).toMatch(/^error: No database file at/m);
  }, 60_000);
});
