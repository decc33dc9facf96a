/**
 * The container path, end to end with podman (no daemon needed): `npm run test:container`.
 *
 * Builds the image from deploy/Dockerfile, then runs Savepoint on a root-owned host directory
 * bind-mounted on /data, as `docker compose up` leaves a directory it has just created:
 *   1. first start: the entrypoint gives /data to `node`, Savepoint runs as uid 1000, the
 *      healthcheck passes; sessions are created and games recorded through the API;
 *   2. the container is deleted (`rm -f`) and recreated: everything reads back the same;
 *   3. more writes, then `kill -9` of the server process and a recreate: everything reads back.
 *
 * Not part of `npm test`: it needs podman, runc and (without an image registry) debootstrap, and a
 * build takes minutes. CI (.ci/run) runs it after the test suite. It prints the build time, the
 * image size and the first-start time.
 *
 * Environment: SAVEPOINT_CONTAINER_IMAGE (default localhost/savepoint:container-test),
 * SAVEPOINT_CONTAINER_KEEP=1 keeps the data directory for inspection.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '../..');
const IMAGE = process.env.SAVEPOINT_CONTAINER_IMAGE ?? 'localhost/savepoint:container-test';
const NAME = `savepoint-container-test-${process.pid}`;
/** What this machine's podman needs: runc (crun refuses hybrid cgroups), cgroupfs, explicit rlimits. */
const ENGINE = ['--runtime', 'runc', '--cgroup-manager', 'cgroupfs'];
const RUN_FLAGS = ['--ulimit', 'nofile=10000:10000', '--ulimit', 'nproc=4096:4096', '--network=host'];

function podman(args: readonly string[], options: { quiet?: boolean } = {}): string {
  const result = spawnSync('podman', [...ENGINE, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', options.quiet === true ? 'pipe' : 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  if (result.status !== 0)
    throw new Error(`podman ${args.join(' ')} failed (${result.status}): ${result.stderr ?? ''}`);
  return result.stdout.trim();
}

function step(text: string): void {
  process.stdout.write(`container: ${text}\n`);
}

async function freePort(): Promise<number> {
  return new Promise((done, fail) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() => (typeof address === 'object' && address !== null ? done(address.port) : fail()));
    });
  });
}

const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

interface Service {
  readonly url: string;
  key: string;
}

async function call(service: Service, method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${service.url}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${service.key}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${text}`);
  return text === '' ? undefined : (JSON.parse(text) as unknown);
}

/** Starts a container on `dataDir`; answers once /health says ok, with the time that took. */
async function start(dataDir: string, port: number): Promise<number> {
  const began = performance.now();
  podman(
    [
      'run',
      '--detach',
      '--name',
      NAME,
      ...RUN_FLAGS,
      '--env',
      `PORT=${port}`,
      '--env',
      'SAVEPOINT_LOG_LEVEL=warn',
      '--volume',
      `${dataDir}:/data`,
      IMAGE,
    ],
    { quiet: true },
  );
  for (let attempt = 0; attempt < 600; attempt++) {
    const answer = await fetch(`http://127.0.0.1:${port}/health`).catch(() => undefined);
    if (answer?.ok === true) return performance.now() - began;
    const state = podman(['inspect', '--format', '{{.State.Status}}', NAME], { quiet: true });
    if (state === 'exited') throw new Error(`the container exited before it was healthy:\n${logs()}`);
    await sleep(100);
  }
  throw new Error(`not healthy after 60 s:\n${logs()}`);
}

function logs(): string {
  const result = spawnSync('podman', [...ENGINE, 'logs', NAME], { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`;
}

function remove(): void {
  spawnSync('podman', [...ENGINE, 'rm', '--force', '--time', '5', NAME], { stdio: 'ignore' });
}

/** Everything the scenario wrote, as the API answers it now. */
async function readBack(service: Service, sessionIds: readonly string[], gameIds: readonly string[]) {
  return {
    sessions: await Promise.all(sessionIds.map((id) => call(service, 'GET', `/v1/sessions/${id}`))),
    summary: await call(service, 'GET', '/v1/stats/summary'),
    games: await Promise.all(
      gameIds.map(async (id) => ({
        restore: await call(service, 'GET', `/api/game/${id}/restore`),
        events: await call(service, 'GET', `/api/game/${id}/events?after=0`),
      })),
    ),
  };
}

/** Creates two sessions (one completed), records games against them and persists a game with events. */
async function play(service: Service, round: number, sessionIds: string[], gameIds: string[]): Promise<void> {
  for (let i = 0; i < 2; i++) {
    const session = (await call(service, 'POST', '/v1/sessions', {
      state: { round, board: [i, i + 1] },
      options: { mode: 'ranked' },
    })) as { sessionId: string };
    sessionIds.push(session.sessionId);
    await call(service, 'POST', '/v1/stats/games', {
      sessionId: session.sessionId,
      outcome: i === 0 ? 'win' : 'loss',
      moves: 10 + i + round,
      durationMs: 1000 * (round + 1),
    });
  }
  await call(service, 'PUT', `/v1/sessions/${sessionIds.at(-1)}`, {
    state: { round, over: true },
    status: 'completed',
  });
  const gameId = `table-${round}`;
  await call(service, 'POST', `/api/game/${gameId}/persist`, {
    state: { pot: 10 * round },
    players: ['ada', 'grace'],
    phase: 'flop',
  });
  await call(service, 'POST', `/api/game/${gameId}/events`, {
    events: [
      { type: 'bet', data: { player: 'ada', chips: 5 } },
      { type: 'call', data: { player: 'grace', chips: 5 } },
    ],
    state: { pot: 10 * round + 10 },
  });
  gameIds.push(gameId);
}

async function main(): Promise<void> {
  const base = spawnSync('bash', [join(ROOT, 'test/container/standin-base.sh')], { stdio: 'inherit' });
  if (base.status !== 0) throw new Error('no base image');

  step(`building ${IMAGE} from deploy/Dockerfile`);
  const buildStart = performance.now();
  podman([
    'build',
    '--isolation=chroot',
    '--network=host',
    // The docker format keeps the HEALTHCHECK (the OCI format has no field for it).
    '--format',
    'docker',
    '--file',
    'deploy/Dockerfile',
    '--tag',
    IMAGE,
    '.',
  ]);
  const buildSeconds = (performance.now() - buildStart) / 1000;
  const size = Number(podman(['image', 'inspect', '--format', '{{.Size}}', IMAGE], { quiet: true }));
  step(`built in ${buildSeconds.toFixed(0)} s; image size ${(size / 1e6).toFixed(0)} MB`);

  // A host directory as `docker compose up` creates it: owned by root, mode 0755.
  const dataDir = mkdtempSync(join(tmpdir(), 'savepoint-container-data-'));
  execFileSync('chown', ['0:0', dataDir]);
  execFileSync('chmod', ['0755', dataDir]);
  const port = await freePort();
  const service: Service = { url: `http://127.0.0.1:${port}`, key: '' };
  remove();
  try {
    const firstStartMs = await start(dataDir, port);
    step(`first start on a root-owned host directory: healthy after ${(firstStartMs / 1000).toFixed(1)} s`);
    assert.match(logs(), /entrypoint: giving \/data to node \(uid 1000\)/);
    assert.equal(statSync(dataDir).uid, 1000, 'the entrypoint gave /data to node');
    const keyFile = join(dataDir, 'api-key');
    assert.equal(statSync(keyFile).uid, 1000);
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.equal(statSync(join(dataDir, 'savepoint.db')).uid, 1000);
    service.key = readFileSync(keyFile, 'utf8').trim();

    // The server is PID 1 (signals reach it) and runs as node, not root.
    const status = podman(['exec', NAME, 'cat', '/proc/1/status'], { quiet: true });
    assert.match(status, /^Name:\s+node$/m);
    assert.match(status, /^Uid:\s+1000\s+1000\s+1000\s+1000$/m);
    assert.match(status, /^Gid:\s+1000\s+1000\s+1000\s+1000$/m);
    podman(['healthcheck', 'run', NAME], { quiet: true });
    step('server runs as PID 1, uid 1000; healthcheck passes');

    const sessionIds: string[] = [];
    const gameIds: string[] = [];
    await play(service, 1, sessionIds, gameIds);
    const written = await readBack(service, sessionIds, gameIds);
    assert.equal((written.summary as { gamesRecorded: number }).gamesRecorded, 2);

    remove();
    await start(dataDir, port);
    assert.deepEqual(await readBack(service, sessionIds, gameIds), written);
    assert.doesNotMatch(logs(), /entrypoint: giving/, 'a second start changes no owner');
    step('deleted and recreated: every session, stat and game read back the same');

    await play(service, 2, sessionIds, gameIds);
    const beforeKill = await readBack(service, sessionIds, gameIds);
    assert.equal((beforeKill.summary as { gamesRecorded: number }).gamesRecorded, 4);
    podman(['kill', '--signal', 'KILL', NAME], { quiet: true });
    remove();
    await start(dataDir, port);
    assert.deepEqual(await readBack(service, sessionIds, gameIds), beforeKill);
    step('kill -9 and recreated: every session, stat and game read back the same');

    remove();
    step(
      `passed (build ${buildSeconds.toFixed(0)} s, image ${(size / 1e6).toFixed(0)} MB, first start ${(firstStartMs / 1000).toFixed(1)} s)`,
    );
  } finally {
    remove();
    if (process.env.SAVEPOINT_CONTAINER_KEEP === '1') step(`data kept in ${dataDir}`);
    else rmSync(dataDir, { recursive: true, force: true });
  }
}

try {
  await main();
} catch (error) {
  process.stderr.write(
    `container: FAILED: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
  );
  process.exitCode = 1;
}
