/**
 * The services gate: whether the PostgreSQL and Redis suites run. With
 * `SAVEPOINT_REQUIRE_SERVICES=1` an unreachable service is a failure (the probe throws, so the test
 * file fails); without it the suites are skipped and one line says so. Never skipped silently.
 *
 * Usage in a test file (Vitest evaluates test files as ESM, so top-level await works):
 * `const pg = await postgresAvailable(); describe.skipIf(!pg)('...', () => { ... })`.
 */
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { createConnection, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as connectTls } from 'node:tls';

/** `SAVEPOINT_TEST_POSTGRES_URL`, default `postgres://postgres@127.0.0.1:5432/test`. */
export const postgresUrl: string =
  process.env.SAVEPOINT_TEST_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** `SAVEPOINT_TEST_REDIS_URL`, default `redis://127.0.0.1:6379`. */
export const redisUrl: string = process.env.SAVEPOINT_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

/** True when `SAVEPOINT_REQUIRE_SERVICES=1`: an unreachable service fails the run instead of skipping. */
export const servicesRequired: boolean = process.env.SAVEPOINT_REQUIRE_SERVICES === '1';

const PROBE_TIMEOUT_MS = 3000;

/** Hides a password in a URL before it is printed. */
function redact(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}

/**
 * Says once per test run (not once per test file: Vitest runs each file in its own worker) that a
 * service's suites are skipped. Workers share the Vitest process as parent, so a marker file named
 * after it lets only the first worker print.
 */
function announceSkip(service: string, suites: string, url: string, reason: string): void {
  const marker = join(tmpdir(), `savepoint-skip-${process.ppid}-${suites}`);
  try {
    writeFileSync(marker, '', { flag: 'wx' });
  } catch (error) {
    // Another worker already said it; any other failure must not silence the line.
    if ((error as NodeJS.ErrnoException).code === 'EEXIST') return;
  }
  console.warn(
    `[savepoint] ${service} at ${redact(url)} unreachable (${reason}): skipping ${suites} suites (set SAVEPOINT_REQUIRE_SERVICES=1 to make this a failure)`,
  );
}

async function gate(
  service: string,
  suites: string,
  url: string,
  probe: () => Promise<void>,
): Promise<boolean> {
  try {
    await probe();
    return true;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    if (servicesRequired) {
      throw new Error(
        `[savepoint] ${service} at ${redact(url)} is unreachable (${reason}) and SAVEPOINT_REQUIRE_SERVICES=1 requires it`,
        { cause: error },
      );
    }
    announceSkip(service, suites, url, reason);
    return false;
  }
}

async function probePostgres(): Promise<void> {
  // Loaded here, not at the top, so that a Redis-only suite never loads the PostgreSQL client.
  const { default: postgres } = await import('postgres');
  const sql = postgres(postgresUrl, {
    max: 1,
    connect_timeout: PROBE_TIMEOUT_MS / 1000,
    onnotice: () => {},
  });
  try {
    await sql`SELECT 1`;
  } finally {
    await sql.end({ timeout: 1 });
  }
}

/** Sends raw RESP commands and resolves with the replies once `expected` lines have arrived. */
function probeRedis(): Promise<void> {
  const url = new URL(redisUrl);
  const host = url.hostname.length > 0 ? url.hostname : '127.0.0.1';
  const port = url.port.length > 0 ? Number(url.port) : 6379;
  const commands: string[][] = [];
  if (url.password.length > 0) {
    const user = decodeURIComponent(url.username);
    const password = decodeURIComponent(url.password);
    commands.push(user.length > 0 ? ['AUTH', user, password] : ['AUTH', password]);
  }
  commands.push(['PING']);
  const request = commands
    .map((args) => `*${args.length}\r\n${args.map((a) => `$${Buffer.byteLength(a)}\r\n${a}\r\n`).join('')}`)
    .join('');
  return new Promise<void>((resolve, reject) => {
    const socket: Socket =
      url.protocol === 'rediss:'
        ? connectTls({ host, port, servername: host })
        : createConnection({ host, port });
    let received = '';
    const finish = (error?: Error): void => {
      socket.destroy();
      if (error === undefined) resolve();
      else reject(error);
    };
    socket.setTimeout(PROBE_TIMEOUT_MS, () => finish(new Error(`no answer within ${PROBE_TIMEOUT_MS} ms`)));
    socket.once('error', (error) => finish(error));
    socket.once(url.protocol === 'rediss:' ? 'secureConnect' : 'connect', () => socket.write(request));
    socket.on('data', (chunk: Buffer) => {
      received += chunk.toString('utf8');
      const lines = received.split('\r\n').filter((line) => line.length > 0);
      const failure = lines.find((line) => line.startsWith('-'));
      if (failure !== undefined) finish(new Error(`Redis answered ${failure.slice(1)}`));
      else if (lines.length >= commands.length) {
        if (lines.at(-1) === '+PONG') finish();
        else finish(new Error(`unexpected answer to PING: ${lines.at(-1)}`));
      }
    });
  });
}

let postgresProbe: Promise<boolean> | undefined;
let redisProbe: Promise<boolean> | undefined;

/**
 * Whether PostgreSQL at {@link postgresUrl} answers `SELECT 1`. Probes once per process (cached).
 * Throws when it does not and `SAVEPOINT_REQUIRE_SERVICES=1`.
 */
export function postgresAvailable(): Promise<boolean> {
  postgresProbe ??= gate('PostgreSQL', 'postgres', postgresUrl, probePostgres);
  return postgresProbe;
}

/**
 * Whether Redis at {@link redisUrl} answers `PING` (a raw TCP exchange, so the Redis client is not
 * loaded). Probes once per process (cached). Throws when it does not and `SAVEPOINT_REQUIRE_SERVICES=1`.
 */
export function redisAvailable(): Promise<boolean> {
  redisProbe ??= gate('Redis', 'redis', redisUrl, probeRedis);
  return redisProbe;
}

/**
 * A name no other suite or process uses, valid as a PostgreSQL identifier and a Redis key prefix:
 * `<prefix>_<pid>_<8 hex digits>`, e.g. `sp_test_4242_1a2b3c4d`.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}
