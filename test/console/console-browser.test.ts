/**
 * The operator console (docs/console.md) in a real Chromium, driven by playwright-core, against a
 * real `savepoint serve` seeded through the API. Chromium comes from the Debian package
 * (`/usr/bin/chromium`); without it this file is skipped with one line, unless
 * `SAVEPOINT_REQUIRE_SERVICES=1`, which makes its absence a failure.
 *
 * Screenshots of every section go to `SAVEPOINT_CONSOLE_SCREENSHOTS` (the docs use
 * `docs/console`), else to a temporary folder.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../cli/cli-harness.js';
import { ensureBuilt, type ServeProcess, startServe } from '../support/processes.js';
import { servicesRequired } from '../support/services.js';

/** The browser globals the page-side callbacks use: this file compiles without the DOM lib. */
declare const document: {
  getElementById(id: string): { value?: string } | null;
  documentElement: { scrollWidth: number };
};
declare const window: { innerWidth: number };
declare const performance: { now(): number };
declare const sessionStorage: { getItem(key: string): string | null };
declare const localStorage: { readonly length: number };

const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const KEY = 'console-test-key-0123456789';
const WAIT_MS = 15_000;

const chromiumPresent = existsSync(CHROMIUM);
if (!chromiumPresent) {
  if (servicesRequired)
    throw new Error(
      `${CHROMIUM} is missing: install the Debian package chromium (SAVEPOINT_REQUIRE_SERVICES=1)`,
    );
  console.warn(
    `[savepoint] ${CHROMIUM} not found: skipping the console browser test (apt-get install chromium; set SAVEPOINT_REQUIRE_SERVICES=1 to make this a failure)`,
  );
}

/** Whether `dist/console/` is missing or older than a file under `console/` (`npm test` builds it first). */
function consoleBuildIsStale(): boolean {
  const built = join(ROOT, 'dist', 'console', 'console.js');
  if (!existsSync(built)) return true;
  const builtAt = statSync(built).mtimeMs;
  const sources = readdirSync(join(ROOT, 'console'), { recursive: true, withFileTypes: true });
  return sources.some(
    (entry) => entry.isFile() && statSync(join(entry.parentPath, entry.name)).mtimeMs > builtAt,
  );
}

/** Calls the server's API with the key, failing the test on any non-2xx answer. */
async function call(base: string, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${KEY}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path} answered ${response.status}: ${text}`);
  return text === '' ? undefined : JSON.parse(text);
}

/** The `items` catalog kind, loaded as 1.1.0 before the server starts and as 1.2.0 by its start-up seeding. */
const ITEMS_1_1_0 = {
  version: '1.1.0',
  updated_at: '2026-11-01T12:00:00Z',
  data: [
    { id: 'sword', damage: 10, price: 100 },
    { id: 'shield', armor: 8, price: 90 },
    { id: 'bow', damage: 7, price: 60 },
  ],
};
const ITEMS_1_2_0 = {
  version: '1.2.0',
  updated_at: '2026-11-30T12:00:00Z',
  data: [
    { id: 'sword', damage: 12, price: 100 },
    { id: 'shield', armor: 8, price: 80 },
    { id: 'potion', heal: 25, price: 15 },
  ],
};

/** A game with events, sessions and stats, a board, a match, rankings, a lease and audit entries. */
async function seed(base: string): Promise<void> {
  await call(base, 'POST', '/api/game/table-42/persist', {
    state: { pot: 40, board: { cards: ['Ah', 'Kd', '7c'] }, dealer: 'ada' },
    players: ['ada', 'grace'],
    phase: 'flop',
  });
  await call(base, 'POST', '/api/game/table-42/events', {
    events: [
      { type: 'bet', data: { player: 'ada', chips: 20 } },
      { type: 'call', data: { player: 'grace', chips: 20 } },
    ],
  });
  await call(base, 'POST', '/api/game/table-43/persist', { state: { pot: 0 }, players: ['linus'] });
  // Three versions of one game, for its history.
  for (const [pot, phase] of [
    [0, 'preflop'],
    [40, 'flop'],
    [120, 'turn'],
  ] as const) {
    await call(base, 'POST', '/api/game/table-7/persist', { state: { pot }, players: ['ada', 'ken'], phase });
  }
  const session = (await call(base, 'POST', '/v1/sessions', { state: { level: 3 } })) as {
    sessionId: string;
  };
  await call(base, 'POST', '/v1/sessions', { state: { level: 1 } });
  for (const [outcome, moves, durationMs] of [
    ['win', 30, 61_000],
    ['win', 42, 75_000],
    ['loss', 18, 40_000],
  ] as const) {
    await call(base, 'POST', '/v1/stats/games', { sessionId: session.sessionId, outcome, moves, durationMs });
  }
  await call(base, 'PUT', '/v1/leaderboards/global', { order: 'desc', operator: 'best', period: 'none' });
  for (const [member, score] of [
    ['ada', 900],
    ['grace', 850],
    ['linus', 700],
    ['margaret', 650],
    ['ken', 400],
  ] as const) {
    await call(base, 'POST', '/v1/leaderboards/global/scores', { member, score });
  }
  await call(base, 'PUT', '/v1/matches/m-7', { status: 'active', roundsTotal: 2, createdBy: 'ada' });
  await call(base, 'PUT', '/v1/matches/m-7/rounds/0', { promptText: 'a cat on a skateboard' });
  await call(base, 'POST', '/v1/matches/m-7/rounds/0/winner', { winnerUser: 'grace', points: 3 });
  await call(base, 'POST', '/v1/matches/m-7/scores/ada', { points: 1 });
  await call(base, 'POST', '/v1/matches/m-7/complete', { trophies: { grace: ['first-win'] } });
  await call(base, 'POST', '/v1/rankings/batch', {
    entries: [
      { stateKey: 's0', move: 0, value: 0.5 },
      { stateKey: 's0', move: 1, value: -0.25 },
      { stateKey: 's1', move: 2, value: 1 },
    ],
  });
  await call(base, 'POST', '/v1/leases/nightly-report', { holder: 'worker-1', ttl: '60s' });
  await call(base, 'POST', '/v1/admin/sweep', {});
}

describe.skipIf(!chromiumPresent)('the operator console in Chromium', () => {
  let server: ServeProcess;
  let browser: Browser;
  let page: Page;
  let seedDir: string;
  let dataDir: string;
  let shots: string;
  /** Console errors and failed requests: none may happen outside the steps that expect them. */
  const problems: string[] = [];
  /** Console messages the current step expects (the browser logs every 4xx answer as an error). */
  let expectedConsoleErrors: RegExp | undefined;
  /** Set once the live tail is stopped on purpose: aborting the stream request is how it stops. */
  let tailStopped = false;

  const shoot = (name: string) => page.screenshot({ path: join(shots, `${name}.png`) });
  const section = async (name: string) => {
    await page.getByRole('navigation').getByRole('link', { name, exact: true }).click();
    await page.getByRole('heading', { level: 2, name, exact: true }).waitFor();
  };
  const text = (selector: string) => page.locator(selector).innerText();

  beforeAll(async () => {
    ensureBuilt();
    if (consoleBuildIsStale())
      execFileSync(process.execPath, [join(ROOT, 'console', 'build.mjs')], { cwd: ROOT, stdio: 'pipe' });
    seedDir = await mkdtemp(join(tmpdir(), 'savepoint-console-seed-'));
    dataDir = await mkdtemp(join(tmpdir(), 'savepoint-console-data-'));
    // Two versions of `items`: 1.1.0 seeded by the CLI, then 1.2.0 by the server's start-up seeding.
    await writeFile(join(seedDir, 'items.json'), JSON.stringify(ITEMS_1_1_0));
    const seeding = runCli(['seed', seedDir, '--data-dir', dataDir]);
    if ((await seeding.exited) !== 0) throw new Error(`savepoint seed failed: ${seeding.stderr()}`);
    await writeFile(join(seedDir, 'items.json'), JSON.stringify(ITEMS_1_2_0));
    server = await startServe({
      name: 'console',
      args: [],
      dataDir,
      env: { SAVEPOINT_API_KEY: KEY, SAVEPOINT_SEED_DIR: seedDir, SAVEPOINT_LOG_LEVEL: 'warn' },
    });
    await seed(server.url);
    shots = process.env.SAVEPOINT_CONSOLE_SCREENSHOTS
      ? resolve(ROOT, process.env.SAVEPOINT_CONSOLE_SCREENSHOTS)
      : await mkdtemp(join(tmpdir(), 'savepoint-console-shots-'));
    await mkdir(shots, { recursive: true });
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      acceptDownloads: true,
    });
    context.setDefaultTimeout(WAIT_MS);
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      if (expectedConsoleErrors?.test(message.text())) return;
      problems.push(`console error: ${message.text()}`);
    });
    page.on('pageerror', (error) => problems.push(`page error: ${error.message}`));
    page.on('requestfailed', (request) => {
      const failure = request.failure()?.errorText ?? '';
      if (tailStopped && request.url().endsWith('/stream') && failure === 'net::ERR_ABORTED') return;
      problems.push(`request failed: ${request.method()} ${request.url()} ${failure}`);
    });
    // Building dist/ (when the sources changed), starting the server and Chromium on a busy machine.
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.stop();
    if (seedDir !== undefined) await rm(seedDir, { recursive: true, force: true });
    if (dataDir !== undefined) await rm(dataDir, { recursive: true, force: true });
    if (shots !== undefined) console.info(`[console] screenshots in ${shots}`);
  });

  it('serves the page with a strict Content-Security-Policy and shows public data without a key', async () => {
    const response = await page.goto(`${server.url}/console#health`);
    expect(response?.status()).toBe(200);
    const csp = response?.headers()['content-security-policy'] ?? '';
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain('unsafe-inline');
    await page.locator('.card', { hasText: 'pending writes' }).waitFor();
    // From navigation start to the first data shown, in the page's own clock: reported, not asserted.
    const firstData = await page.evaluate(() => performance.now());
    console.info(`[console] cold page load to first data (health, no key): ${Math.round(firstData)} ms`);
    expect(await text('main')).toContain('sqlite');
    await page.getByText('Enter the API key above to run the actions.').waitFor();
    await section('Catalog');
    await page.getByRole('link', { name: 'items', exact: true }).waitFor();
    await section('Leaderboards');
    await page.getByText('Enter the API key to list them all.').waitFor();
    await page.getByLabel('Board').fill('global');
    await page.getByRole('button', { name: 'Open board' }).click();
    await page.locator('#board-top').getByRole('cell', { name: 'ada', exact: true }).waitFor();
  });

  it('takes the key in a field labelled "API key" and keeps it in sessionStorage only', async () => {
    await section('Games');
    await page.getByText('Enter the API key above to see this section.').waitFor();
    await page.getByLabel('API key').fill(KEY);
    await page.getByRole('button', { name: 'Use key' }).click();
    await page.getByText('Key set for this tab').waitFor();
    const stored = await page.evaluate(() => ({
      session: sessionStorage.getItem('savepoint.apiKey'),
      local: localStorage.length,
      field: document.getElementById('api-key')?.value,
    }));
    expect(stored).toEqual({ session: KEY, local: 0, field: '' });
    expect(page.url()).not.toContain(KEY);
  });

  it('Games: lists games, shows state, players and events, and tails the event stream live', async () => {
    await page.getByRole('link', { name: 'table-42', exact: true }).waitFor();
    await page.reload();
    await page.getByRole('link', { name: 'table-42', exact: true }).waitFor();
    const firstData = await page.evaluate(() => performance.now());
    console.info(`[console] page load to first data (games list, with the key): ${Math.round(firstData)} ms`);
    await page.getByLabel('Game id or prefix').fill('table-4');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('link', { name: 'table-43', exact: true }).waitFor();
    await page.getByRole('link', { name: 'table-42', exact: true }).click();
    await page.getByRole('heading', { name: 'Game table-42' }).waitFor();
    await page.getByRole('cell', { name: 'call', exact: true }).waitFor();
    const detail = await text('#game-detail');
    expect(detail).toContain('flop');
    expect(detail).toContain('pot: 40');
    // The tree opens two levels; deeper ones open on demand.
    expect(detail).not.toContain('"Kd"');
    await page.locator('#game-detail summary', { hasText: 'cards:' }).click();
    // The branch is built on its toggle event, which the click only queues.
    await page.locator('#game-detail').getByText('"Kd"').first().waitFor();
    expect(await text('#game-detail')).toContain('"Kd"');
    expect(detail).toMatch(/1\s+ada/);
    expect(detail).toMatch(/2\s+grace/);
    // Only the persist is a version of its own: the events call moved the log, not the state.
    await page.locator('#history-list').getByRole('button', { name: 'Version 1', exact: true }).waitFor();
    expect(await page.locator('#history-list tbody tr').count()).toBe(1);

    await page.getByRole('button', { name: 'Start live tail' }).click();
    await page.getByText('Live: new events appear below').waitFor();
    await call(server.url, 'POST', '/api/game/table-42/events', {
      events: [{ type: 'raise', data: { player: 'ada', chips: 60 } }],
    });
    const fresh = page.locator('tr.fresh', { hasText: 'raise' });
    await fresh.waitFor();
    expect(await fresh.innerText()).toContain('3');
    await page.screenshot({ path: join(shots, 'games.png'), fullPage: true });
    tailStopped = true;
    await page.getByRole('button', { name: 'Stop live tail' }).click();
    await page.getByText('Live tail stopped.').waitFor();
  });

  it('Games → History: the versions, a point-in-time view, a rollback and a fork through the page', async () => {
    await page.goto(`${server.url}/console#games/table-7`);
    const list = page.locator('#history-list');
    await list.getByRole('button', { name: 'Version 1', exact: true }).waitFor();
    const rows = await list.locator('tbody tr').allInnerTexts();
    expect(rows.map((row) => row.split('\t')[0])).toEqual(['v3', 'v2', 'v1']);
    expect(rows[0]).toMatch(/turn\s+\w+\s+current/);
    expect(rows[2]).toContain('preflop');

    // The game as it was at version 1.
    await list.getByRole('button', { name: 'Version 1', exact: true }).click();
    const view = page.locator('#history-view');
    await view.getByRole('heading', { name: 'Version 1', exact: true }).waitFor();
    expect(await view.innerText()).toMatch(/version\s+1[\s\S]*phase\s+preflop[\s\S]*pot: 0/);

    // Rollback: Escape cancels; the dialog says from and to, and takes a reason.
    await view.getByRole('button', { name: 'Roll back to this version' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByLabel('Reason (optional)').waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await view.getByRole('button', { name: 'Roll back to this version' }).click();
    await dialog.getByText(/From version 3 \(turn, \w+\) to version 1 \(preflop, \w+\)/).waitFor();
    await dialog.getByLabel('Reason (optional)').fill('misdeal');
    await shoot('games-rollback');
    await dialog.getByRole('button', { name: 'Roll back to version 1' }).click();
    await page.getByText('Rolled back from version 3 to version 1: now version 4.').waitFor();
    const facts = await page.locator('#game-detail dl.facts').first().innerText();
    expect(facts).toMatch(/phase\s+preflop/);
    expect(facts).toMatch(/version\s+4/);
    expect(await page.locator('#game-detail > ul.json').innerText()).toContain('pot: 0');
    const rollbackEvent = page.locator('#game-detail tr', { hasText: 'rollback' });
    await rollbackEvent.waitFor();
    expect(await rollbackEvent.innerText()).toContain('"fromVersion":3,"toVersion":1,"reason":"misdeal"');
    await list.getByRole('button', { name: 'Version 4', exact: true }).waitFor();
    expect(await list.locator('tr.highlight').innerText()).toMatch(/^v4\t/);
    const restored = (await call(server.url, 'GET', '/api/game/table-7/restore')) as Record<string, unknown>;
    expect(restored).toMatchObject({ version: 4, phase: 'preflop', state: { pot: 0 } });

    // Fork version 2 into a new game.
    await list.getByRole('button', { name: 'Version 2', exact: true }).click();
    await view.getByRole('heading', { name: 'Version 2', exact: true }).waitFor();
    await view.getByRole('button', { name: 'Fork from this version' }).click();
    await dialog.getByLabel('New game id').fill('table-7-replay');
    await dialog.getByRole('button', { name: 'Fork', exact: true }).click();
    const result = page.locator('#history-result');
    await result.getByRole('link', { name: 'table-7-replay', exact: true }).waitFor();
    expect(await result.innerText()).toContain('Forked version 2 of table-7 into table-7-replay (version 1');
    const fork = (await call(server.url, 'GET', '/api/game/table-7-replay/restore')) as Record<
      string,
      unknown
    >;
    expect(fork).toMatchObject({ version: 1, phase: 'flop', state: { pot: 40 }, players: ['ada', 'ken'] });
    await page.locator('#game-history').screenshot({ path: join(shots, 'games-history.png') });

    // The API's refusals, in the page: a fork onto an existing game, and a rollback after a change
    // made elsewhere since the page read the game (sent with expectedVersion, so nothing is undone).
    expectedConsoleErrors = /Failed to load resource: the server responded with a status of 409/;
    await view.getByRole('button', { name: 'Fork from this version' }).click();
    await dialog.getByLabel('New game id').fill('table-43');
    await dialog.getByRole('button', { name: 'Fork', exact: true }).click();
    await result
      .getByRole('alert')
      .getByText(/^VERSION_CONFLICT \(409\): .*table-43/)
      .waitFor();

    await call(server.url, 'POST', '/api/game/table-7/persist', { state: { pot: 999 }, phase: 'river' });
    await view.getByRole('button', { name: 'Roll back to this version' }).click();
    await dialog.getByRole('button', { name: 'Roll back to version 2' }).click();
    await result
      .getByRole('alert')
      .getByText(/^VERSION_CONFLICT \(409\)/)
      .waitFor();
    await result.getByText('The game changed since this page read it').waitFor();
    expectedConsoleErrors = undefined;
    const untouched = (await call(server.url, 'GET', '/api/game/table-7/restore')) as Record<string, unknown>;
    expect(untouched).toMatchObject({ version: 5, phase: 'river', state: { pot: 999 } });
  });

  it('Sessions & Stats: the summary with its charts and the session list', async () => {
    await section('Sessions & Stats');
    await page.getByRole('img', { name: /Outcome counts: win 2, loss 1/ }).waitFor();
    await page.getByRole('img', { name: /moves min 18/ }).waitFor();
    const main = await text('main');
    expect(main).toMatch(/games recorded\s+3/);
    expect(main).toMatch(/sessions created\s+2/);
    expect(await page.locator('#main table').last().locator('tbody tr').count()).toBe(2);
    await shoot('sessions-stats');
  });

  it('Leaderboards: boards, top N, and a member with the members around them', async () => {
    await section('Leaderboards');
    await page.getByRole('link', { name: 'global', exact: true }).click();
    await page.locator('#board-top').getByRole('cell', { name: 'ken', exact: true }).waitFor();
    expect(await text('#board-top')).toContain('All time: 5 members');
    await page.getByLabel('Top N').fill('2');
    await page.getByRole('button', { name: 'Show top' }).click();
    await page.getByText('top 2 shown').waitFor();
    await page.getByLabel('Member', { exact: true }).fill('linus');
    await page.getByLabel('Around').fill('1');
    await page.getByRole('button', { name: 'Find member' }).click();
    await page.getByText('linus is ranked 3 with 700.').waitFor();
    const around = await page.locator('#board-member tbody tr').allInnerTexts();
    expect(around.map((row) => row.split('\t')[1])).toEqual(['grace', 'linus', 'margaret']);
    expect(await page.locator('#board-member tr.highlight').innerText()).toContain('linus');
    await shoot('leaderboards');
  });

  it('Matches: rounds, scores and each player’s lifetime record', async () => {
    await section('Matches');
    await page.getByRole('link', { name: 'm-7', exact: true }).click();
    await page.getByRole('cell', { name: 'a cat on a skateboard' }).waitFor();
    await page.getByRole('heading', { name: 'Lifetime records' }).waitFor();
    const main = await text('main');
    expect(main).toMatch(/1\s+grace\s+3\s+1/);
    expect(main).toMatch(/2\s+ada\s+1\s+0/);
    expect(main).toMatch(/grace\s+1\s+1\s+first-win/);
    await shoot('matches');
  });

  it('Rankings: the count, an export download, and an import confirmed with its entry count', async () => {
    await section('Rankings');
    await page.locator('.card', { hasText: 'Q-table entries' }).getByText('3', { exact: true }).waitFor();
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Download export' }).click(),
    ]);
    expect(download.suggestedFilename()).toMatch(/^rankings-.*\.json$/);
    await page.getByText('Exported 3 entries.').waitFor();

    const replacement = {
      version: 1,
      exportedAt: new Date().toISOString(),
      count: 2,
      entries: [
        { stateKey: 'x', move: 0, value: 2 },
        { stateKey: 'y', move: 1, value: 3 },
      ],
    };
    await page.getByLabel('Import an export file').setInputFiles({
      name: 'two.json',
      mimeType: 'application/json',
      buffer: Buffer.from(JSON.stringify(replacement)),
    });
    const dialog = page.getByRole('dialog');
    await dialog.getByText('two.json holds 2 entries').waitFor();
    await shoot('rankings-import');
    await dialog.getByRole('button', { name: 'Import 2 entries' }).click();
    await page.getByText('Imported 2 entries.').waitFor();
    await page.locator('.card', { hasText: 'Q-table entries' }).getByText('2', { exact: true }).waitFor();
    await shoot('rankings');
  });

  it('Catalog: kinds and one kind’s records', async () => {
    await section('Catalog');
    await page.getByRole('cell', { name: '1.2.0' }).waitFor();
    await page.getByText('Open a kind for its records, its versions and the diff between two.').waitFor();
    await page.getByRole('link', { name: 'items', exact: true }).click();
    await page.getByRole('cell', { name: 'shield', exact: true }).waitFor();
    expect(await text('main')).toMatch(/records\s+3/);
    await shoot('catalog');
  });

  it('Catalog → Versions: the versions of a kind, one version’s content, a diff and a rollback', async () => {
    const pane = page.locator('#catalog-versions');
    await pane.getByRole('button', { name: 'View version 1.1.0' }).waitFor();
    const rows = await pane.locator('.table-wrap').first().locator('tbody tr').allInnerTexts();
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^1\.2\.0\t[\s\S]*\t3\t[0-9a-f]{12}\tcurrent$/);
    expect(rows[1]).toMatch(/^1\.1\.0\t/);

    await pane.getByRole('button', { name: 'View version 1.1.0' }).click();
    const view = page.locator('#catalog-version-view');
    await view.getByRole('cell', { name: 'bow', exact: true }).waitFor();
    expect(await view.innerText()).toMatch(/sword\s+10\s+100/);

    await expect(page.getByLabel('From').inputValue()).resolves.toBe('1.1.0');
    await expect(page.getByLabel('To').inputValue()).resolves.toBe('1.2.0');
    await pane.getByRole('button', { name: 'Show diff' }).click();
    const diff = page.locator('#catalog-diff');
    await diff.getByText('From 1.1.0 to 1.2.0:').waitFor();
    const shown = await diff.innerText();
    expect(shown).toMatch(/added\s+potion/);
    expect(shown).toMatch(/removed\s+bow/);
    expect(shown).toMatch(/sword\s+damage/);
    expect(shown).toMatch(/shield\s+price/);
    await pane.screenshot({ path: join(shots, 'catalog-versions.png') });

    await pane.getByRole('button', { name: 'Roll back to 1.1.0' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('From version 1.2.0 to version 1.1.0 (3 records)').waitFor();
    await dialog.getByRole('button', { name: 'Roll back to 1.1.0' }).click();
    await page.getByText('Rolled back items from version 1.2.0 to version 1.1.0.').waitFor();
    await page.locator('#main table').first().getByRole('cell', { name: 'bow', exact: true }).waitFor();
    const current = (await call(server.url, 'GET', '/v1/catalog/items')) as { version: string };
    expect(current.version).toBe('1.1.0');
  });

  it('Leases: holder, fence and time left', async () => {
    await section('Leases');
    const row = page.locator('tr', { hasText: 'nightly-report' });
    await row.waitFor();
    expect(await row.innerText()).toMatch(/worker-1\s+1\s+.*\s+\d+ s/);
    await page.getByLabel('Lease name').fill('nightly-report');
    await page.getByRole('button', { name: 'Look up' }).click();
    await page
      .locator('dl.facts', { hasText: 'worker-1' })
      .getByText(/^\d+ s$/)
      .waitFor();
    await shoot('leases');
  });

  it('Health: storage state and a sweep behind a confirmation; Audit: the log, filtered and live', async () => {
    await section('Health');
    await page.locator('.card', { hasText: 'pending writes' }).waitFor();
    await page.getByText('No recovery was needed at start-up.').waitFor();
    await page.getByRole('button', { name: 'Sweep' }).click();
    const dialog = page.getByRole('dialog');
    await dialog.getByText('Remove every expired record now?').waitFor();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    await page.getByRole('button', { name: 'Sweep' }).click();
    await dialog.getByRole('button', { name: 'Sweep' }).click();
    await page.getByText(/Sweep done: \d+ records removed/).waitFor();
    await shoot('health');

    await section('Audit');
    await page.locator('#audit-list tbody tr').first().waitFor();
    const types = await page.locator('#audit-list tbody tr td:nth-child(2)').allInnerTexts();
    expect(types.filter((type) => type === 'sweep').length).toBeGreaterThanOrEqual(2);
    expect(types).toContain('rankings-import');
    await page.getByLabel('Type').selectOption('rankings-import');
    expect(await page.locator('#audit-list tbody tr').count()).toBe(1);
    await page.getByLabel('Type').selectOption('');
    const before = await page.locator('#audit-list tbody tr').count();
    await call(server.url, 'POST', '/v1/rankings/import', {
      version: 1,
      exportedAt: new Date().toISOString(),
      count: 0,
      entries: [],
    });
    await page.locator('#audit-list tbody tr').nth(before).waitFor();
    expect(await page.locator('#audit-list tbody tr.fresh').first().innerText()).toContain('rankings-import');
    await shoot('audit');
  });

  it('works from the keyboard and at phone width', async () => {
    await page.getByRole('navigation').getByRole('link', { name: 'Health', exact: true }).focus();
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 2, name: 'Health' }).waitFor();
    expect(page.url()).toMatch(/#health$/);
    await page.setViewportSize({ width: 390, height: 844 });
    await section('Games');
    await page.getByRole('link', { name: 'table-42', exact: true }).waitFor();
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
    expect(overflow).toBeLessThanOrEqual(0);
    await shoot('phone-games');
    // The history's table scrolls inside its own box rather than widening the page.
    await page.goto(`${server.url}/console#games/table-7`);
    await page.locator('#history-list').getByRole('button', { name: 'Version 1', exact: true }).waitFor();
    expect(
      await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth),
    ).toBeLessThanOrEqual(0);
    await page.setViewportSize({ width: 1280, height: 800 });
  });

  it('shows the API’s error for an unknown game and for a wrong key', async () => {
    expectedConsoleErrors = /Failed to load resource: the server responded with a status of (404|401)/;
    await page.goto(`${server.url}/console#games/no-such-table`);
    const notFound = page.getByRole('alert');
    await notFound.waitFor();
    expect(await notFound.innerText()).toMatch(/NOT_FOUND \(404\): .*no-such-table/);

    await page.getByLabel('API key').fill('not-the-key');
    await page.getByRole('button', { name: 'Use key' }).click();
    const refused = page.getByRole('alert');
    await refused.waitFor();
    expect(await refused.innerText()).toContain('UNAUTHORIZED (401): The API key is wrong');
    await shoot('wrong-key');
    expectedConsoleErrors = undefined;
  });

  it('logged no console error and no failed request', () => {
    expect(problems).toEqual([]);
  });
});
