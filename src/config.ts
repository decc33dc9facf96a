/**
 * Every setting Savepoint reads, in one place: command-line flags win over environment variables,
 * which win over defaults. Each value is validated here, so a bad setting stops the start with a
 * message naming it (`Invalid PORT "abc": expected an integer 0-65535`), and the rest of the code
 * reads typed, checked values from {@link Config}.
 */
import { resolve } from 'node:path';
import { SavepointError } from './errors.js';
import { driverKindOf } from './open.js';

/** The settings, all validated. Durations are milliseconds, sizes are bytes. */
export interface Config {
  /** `--host` / `HOST`: the interface to bind. Default `127.0.0.1` (local only). */
  readonly host: string;
  /** `--port` / `PORT`: 0 to 65535; 0 picks a free port. Default 8787. */
  readonly port: number;
  /** `--data-dir` / `SAVEPOINT_DATA_DIR`, made absolute: the SQLite file, the api-key file, backups. Default `./data`. */
  readonly dataDir: string;
  /** `--database` / `DATABASE_URL`: `memory:`, `sqlite:<path>` or `postgres://…`. Default `sqlite:<dataDir>/savepoint.db`. */
  readonly databaseUrl: string;
  /** `--redis` / `REDIS_URL`: `redis://…` or `rediss://…`; unset runs without the Redis layer. */
  readonly redisUrl: string | undefined;
  /**
   * `SAVEPOINT_REDIS_PREFIX`: the Redis key and channel prefix. Every instance of one store must
   * share it, and two stores on one Redis must not. Default `savepoint`.
   */
  readonly redisPrefix: string;
  /** `SAVEPOINT_API_KEY`; unset means a key is generated into `<dataDir>/api-key` at first start. Never printed. */
  readonly apiKey: string | undefined;
  /** `SAVEPOINT_PUBLIC_READS`: public reads (health, catalog, leaderboards, API docs) need no key. Default true. */
  readonly publicReads: boolean;
  /** `SAVEPOINT_MAX_BODY`: the largest request body; bytes or sizes such as `512kb`, `1mb` (1 kb = 1024 bytes). Default 1 MiB. */
  readonly maxBodyBytes: number;
  /** `SAVEPOINT_TOKEN_TTL`: how long a reconnect token lives. Default 30m. */
  readonly tokenTtlMs: number;
  /** `SAVEPOINT_GAME_TTL`: how long a completed game and its tokens are kept. Default 7d. */
  readonly gameTtlMs: number;
  /** `SAVEPOINT_GAME_HISTORY`: versions kept per game for point-in-time reads and rollback; 0 keeps none. Default 100. */
  readonly gameHistory: number;
  /** `SAVEPOINT_IDEMPOTENCY_TTL`: how long an `Idempotency-Key`'s answer is kept for replays. Default 24h. */
  readonly idempotencyTtlMs: number;
  /** `SAVEPOINT_MATCH_TTL`: how long a completed match, its rounds and scores are kept. Default 7d. */
  readonly matchTtlMs: number;
  /** `SAVEPOINT_ANALYTICS_TTL`: how long match analytics are kept. Default 30d. */
  readonly analyticsTtlMs: number;
  /** `SAVEPOINT_RANKING_MIN`: the lowest ranking value accepted. Default -1e6. */
  readonly rankingMin: number;
  /** `SAVEPOINT_RANKING_MAX`: the highest ranking value accepted. Default 1e6. */
  readonly rankingMax: number;
  /** `SAVEPOINT_SAVE_SLOTS`: save slots per player, numbered from 1. Default 3. */
  readonly saveSlots: number;
  /** `SAVEPOINT_SEED_DIR`: catalog seed files loaded at start; unset loads none. Made absolute. */
  readonly seedDir: string | undefined;
  /** `SAVEPOINT_SWEEP_INTERVAL`: how often expired records are removed; 0 turns the sweeper off. Default 1m. */
  readonly sweepIntervalMs: number;
  /** `SAVEPOINT_BACKUP_INTERVAL`: how often a backup is taken; 0 turns it off. Default 1h. */
  readonly backupIntervalMs: number;
  /** `SAVEPOINT_BACKUP_KEEP`: how many backups are kept. Default 24. */
  readonly backupKeep: number;
  /** `SAVEPOINT_DURABILITY`: `normal` survives process crashes, `full` also power loss (SQLite). Default normal. */
  readonly durability: 'normal' | 'full';
  /** `SAVEPOINT_EMA_ALPHA`: the weight of the newest sample in stats' moving averages, in (0, 1]. Default 0.1. */
  readonly emaAlpha: number;
  /** `SAVEPOINT_LOG_LEVEL`: fatal, error, warn, info, debug, trace or silent. Default info. */
  readonly logLevel: LogLevel;
}

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

/** Command-line flags, as strings the way a CLI parser hands them over; `undefined` means not given. */
export interface ConfigFlags {
  readonly host?: string | undefined;
  readonly port?: string | number | undefined;
  readonly dataDir?: string | undefined;
  readonly database?: string | undefined;
  readonly redis?: string | undefined;
}

/** Environment variables; empty values count as unset, so `REDIS_URL=` in a compose file turns Redis off. */
export type ConfigEnv = Readonly<Record<string, string | undefined>>;

export interface LoadConfigInput {
  readonly flags?: ConfigFlags;
  readonly env?: ConfigEnv;
}

/** A configuration that cannot be used; `problems` has one line per bad setting. */
export class ConfigError extends SavepointError {
  readonly problems: readonly string[];

  constructor(problems: readonly string[]) {
    super('INVALID_INPUT', problems.join('; '));
    this.problems = problems;
  }
}

const MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d|w)/gy;

/**
 * Parses a duration such as `500ms`, `2s`, `30m`, `1h30m`, `7d` or `2w` into milliseconds
 * (rounded up to a whole millisecond). `0` alone is accepted and means zero. A bare number other
 * than 0 is refused, because whether it means seconds or milliseconds would be a guess.
 * Throws `INVALID_INPUT` for anything else.
 */
export function parseDuration(text: string): number {
  const trimmed = text.trim();
  if (trimmed === '0') return 0;
  DURATION_PART.lastIndex = 0;
  let total = 0;
  let matched = 0;
  for (let match = DURATION_PART.exec(trimmed); match !== null; match = DURATION_PART.exec(trimmed)) {
    total += Number(match[1]) * MS[match[2] as keyof typeof MS];
    matched = DURATION_PART.lastIndex;
  }
  if (trimmed.length === 0 || matched !== trimmed.length || !Number.isFinite(total)) {
    throw new SavepointError(
      'INVALID_INPUT',
      `"${text}" is not a duration: use a number and a unit (ms, s, m, h, d, w), as in 500ms, 30m, 7d or 1h30m`,
    );
  }
  return Math.ceil(total);
}

const SIZE = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i;
const SIZE_UNITS: Readonly<Record<string, number>> = { b: 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 };

/**
 * Parses a size in bytes: a plain number (`1048576`) or a number with a unit (`512kb`, `1mb`,
 * `1MiB`, `2g`). Units are binary, as in most Node tools: 1 kb = 1024 bytes. Throws `INVALID_INPUT`.
 */
export function parseSize(text: string): number {
  const match = SIZE.exec(text.trim());
  if (match === null) {
    throw new SavepointError(
      'INVALID_INPUT',
      `"${text}" is not a size: use bytes or a unit, as in 512kb or 1mb`,
    );
  }
  const unit = (match[2] ?? 'b').charAt(0).toLowerCase();
  return Math.floor(Number(match[1]) * (SIZE_UNITS[unit] ?? 1));
}

/** Hides the password of a URL (`postgres://app:secret@db/x` → `postgres://app:***@db/x`) and `password=` parameters. */
export function maskUrl(url: string): string {
  return url
    .replace(/^([a-z][a-z0-9+.-]*:\/\/[^:/@?#]*):[^@/?#]*@/i, '$1:***@')
    .replace(/([?&](?:password|pass|pwd|secret|token)=)[^&#]*/gi, '$1***');
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);
/** The longest duration a setting takes: ten years, so that every derived time stays a valid date. */
const MAX_SETTING_MS = 10 * 365 * MS.d;

/** Reads one setting and records a problem instead of throwing, so that every bad setting is reported at once. */
class SettingReader {
  readonly problems: string[] = [];
  readonly #env: ConfigEnv;

  constructor(env: ConfigEnv) {
    this.#env = env;
  }

  /** The raw text of a setting (flag first, then env) and the name to blame if it is bad. */
  raw(
    env: string,
    flag?: { name: string; value: string | number | undefined },
  ): [string, string] | undefined {
    if (flag?.value !== undefined && String(flag.value) !== '') return [String(flag.value), `--${flag.name}`];
    const value = this.#env[env];
    if (value === undefined || value.trim() === '') return undefined;
    return [value.trim(), env];
  }

  parse<T>(
    env: string,
    fallback: T,
    convert: (text: string) => T,
    flag?: { name: string; value: string | number | undefined },
  ): T {
    const found = this.raw(env, flag);
    if (found === undefined) return fallback;
    const [text, name] = found;
    try {
      return convert(text);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      this.problems.push(`Invalid ${name} "${name === 'SAVEPOINT_API_KEY' ? '***' : text}": ${reason}`);
      return fallback;
    }
  }
}

const fail = (reason: string): never => {
  throw new Error(reason);
};

function integer(min: number, max: number, hint = ''): (text: string) => number {
  return (text) => {
    const value = Number(text);
    if (!/^-?\d+$/.test(text) || !Number.isSafeInteger(value) || value < min || value > max)
      fail(`expected an integer ${min}-${max}${hint}`);
    return value;
  };
}

function finiteNumber(text: string): number {
  const value = Number(text);
  if (text.trim() === '' || !Number.isFinite(value)) fail('expected a finite number such as -1e6 or 250');
  return value;
}

function duration(allowZero: boolean): (text: string) => number {
  return (text) => {
    let value: number;
    try {
      value = parseDuration(text);
    } catch {
      return fail('expected a duration such as 500ms, 30s, 30m, 7d');
    }
    if (value === 0 && !allowZero) fail('expected a duration above zero, such as 30m');
    if (value > MAX_SETTING_MS) fail('expected at most 10 years');
    return value;
  };
}

function oneOf<T extends string>(choices: readonly T[]): (text: string) => T {
  return (text) => {
    const lower = text.toLowerCase();
    return (choices as readonly string[]).includes(lower)
      ? (lower as T)
      : fail(`expected ${choices.join(' or ')}`);
  };
}

function boolean(text: string): boolean {
  const lower = text.toLowerCase();
  if (TRUE_WORDS.has(lower)) return true;
  if (FALSE_WORDS.has(lower)) return false;
  return fail('expected true or false');
}

function storageUrl(text: string): string {
  try {
    driverKindOf(text);
  } catch {
    fail('expected memory:, sqlite:<path> or postgres://user@host/db');
  }
  return text;
}

function redisUrl(text: string): string {
  if (!/^rediss?:\/\/\S+$/.test(text)) fail('expected redis://host:6379 or rediss://…');
  return text;
}

function redisPrefix(text: string): string {
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(text)) fail('expected 1-64 characters of A-Z a-z 0-9 . _ : -');
  return text;
}

function host(text: string): string {
  if (!/^[A-Za-z0-9.:[\]-]+$/.test(text))
    fail('expected a host name or IP address such as 127.0.0.1 or 0.0.0.0');
  return text;
}

/** Shorter keys can be guessed; a generated key has 43 characters. */
export const MIN_API_KEY_LENGTH = 16;

function apiKey(text: string): string {
  if (/\s/.test(text)) fail('expected one word without spaces');
  if (text.length < MIN_API_KEY_LENGTH)
    fail(`expected at least ${MIN_API_KEY_LENGTH} characters (try: openssl rand -base64 32)`);
  return text;
}

function bodySize(text: string): number {
  let bytes: number;
  try {
    bytes = parseSize(text);
  } catch {
    return fail('expected a size such as 1048576, 512kb or 1mb');
  }
  if (bytes < 1024 || bytes > 1024 ** 3) fail('expected a size from 1kb to 1gb');
  return bytes;
}

/**
 * Builds the configuration from flags, then environment variables, then defaults, and validates
 * every value. Throws a {@link ConfigError} listing every bad setting by name.
 *
 * @example
 * const config = loadConfig({ flags: { port: '9000' }, env: process.env });
 */
export function loadConfig(input: LoadConfigInput = {}): Config {
  const flags = input.flags ?? {};
  const read = new SettingReader(input.env ?? {});

  const dataDir = resolve(
    read.parse('SAVEPOINT_DATA_DIR', './data', (t) => t, { name: 'data-dir', value: flags.dataDir }),
  );
  const rankingMin = read.parse('SAVEPOINT_RANKING_MIN', -1e6, finiteNumber);
  const rankingMax = read.parse('SAVEPOINT_RANKING_MAX', 1e6, finiteNumber);
  if (rankingMin >= rankingMax)
    read.problems.push(
      `Invalid SAVEPOINT_RANKING_MIN/MAX: the minimum (${rankingMin}) must be below the maximum (${rankingMax})`,
    );
  const seedDir = read.parse<string | undefined>('SAVEPOINT_SEED_DIR', undefined, (t) => resolve(t));

  const config: Config = {
    host: read.parse('HOST', '127.0.0.1', host, { name: 'host', value: flags.host }),
    port: read.parse('PORT', 8787, integer(0, 65535, ' (0 picks a free port)'), {
      name: 'port',
      value: flags.port,
    }),
    dataDir,
    databaseUrl: read.parse('DATABASE_URL', `sqlite:${dataDir}/savepoint.db`, storageUrl, {
      name: 'database',
      value: flags.database,
    }),
    redisUrl: read.parse<string | undefined>('REDIS_URL', undefined, redisUrl, {
      name: 'redis',
      value: flags.redis,
    }),
    redisPrefix: read.parse('SAVEPOINT_REDIS_PREFIX', 'savepoint', redisPrefix),
    apiKey: read.parse<string | undefined>('SAVEPOINT_API_KEY', undefined, apiKey),
    publicReads: read.parse('SAVEPOINT_PUBLIC_READS', true, boolean),
    maxBodyBytes: read.parse('SAVEPOINT_MAX_BODY', 1024 * 1024, bodySize),
    tokenTtlMs: read.parse('SAVEPOINT_TOKEN_TTL', 30 * MS.m, duration(false)),
    gameTtlMs: read.parse('SAVEPOINT_GAME_TTL', 7 * MS.d, duration(false)),
    gameHistory: read.parse('SAVEPOINT_GAME_HISTORY', 100, integer(0, 10_000)),
    idempotencyTtlMs: read.parse('SAVEPOINT_IDEMPOTENCY_TTL', 24 * MS.h, duration(false)),
    matchTtlMs: read.parse('SAVEPOINT_MATCH_TTL', 7 * MS.d, duration(false)),
    analyticsTtlMs: read.parse('SAVEPOINT_ANALYTICS_TTL', 30 * MS.d, duration(false)),
    rankingMin,
    rankingMax,
    saveSlots: read.parse('SAVEPOINT_SAVE_SLOTS', 3, integer(1, 1000)),
    seedDir,
    sweepIntervalMs: read.parse('SAVEPOINT_SWEEP_INTERVAL', MS.m, duration(true)),
    backupIntervalMs: read.parse('SAVEPOINT_BACKUP_INTERVAL', MS.h, duration(true)),
    backupKeep: read.parse('SAVEPOINT_BACKUP_KEEP', 24, integer(1, 10_000)),
    durability: read.parse('SAVEPOINT_DURABILITY', 'normal', oneOf(['normal', 'full'] as const)),
    emaAlpha: read.parse('SAVEPOINT_EMA_ALPHA', 0.1, (text) => {
      const value = finiteNumber(text);
      return value > 0 && value <= 1 ? value : fail('expected a number above 0 and at most 1, such as 0.1');
    }),
    logLevel: read.parse('SAVEPOINT_LOG_LEVEL', 'info', oneOf(LOG_LEVELS)),
  };
  if (read.problems.length > 0) throw new ConfigError(read.problems);
  return Object.freeze(config);
}

function formatDuration(ms: number): string {
  if (ms === 0) return 'off';
  for (const [unit, size] of [
    ['d', MS.d],
    ['h', MS.h],
    ['m', MS.m],
    ['s', MS.s],
  ] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

/**
 * The configuration as `name=value` lines for the start-up banner: passwords in URLs are masked
 * and the API key is never shown, only where it comes from.
 */
export function describeConfig(config: Config): string[] {
  return [
    `host=${config.host} port=${config.port}`,
    `data dir=${config.dataDir}`,
    `database=${maskUrl(config.databaseUrl)} durability=${config.durability}`,
    `redis=${config.redisUrl === undefined ? 'off' : `${maskUrl(config.redisUrl)} (prefix ${config.redisPrefix})`}`,
    `api key=${config.apiKey === undefined ? 'from the api-key file' : 'set by SAVEPOINT_API_KEY'} public reads=${config.publicReads}`,
    `max body=${config.maxBodyBytes} bytes log level=${config.logLevel}`,
    `ttl: token=${formatDuration(config.tokenTtlMs)} game=${formatDuration(config.gameTtlMs)} match=${formatDuration(config.matchTtlMs)} analytics=${formatDuration(config.analyticsTtlMs)} idempotency=${formatDuration(config.idempotencyTtlMs)}`,
    `rankings=[${config.rankingMin}, ${config.rankingMax}] save slots=${config.saveSlots} ema alpha=${config.emaAlpha} game history=${config.gameHistory}`,
    `sweep every ${formatDuration(config.sweepIntervalMs)}; backup every ${formatDuration(config.backupIntervalMs)}, keep ${config.backupKeep}`,
    `seed dir=${config.seedDir ?? 'none'}`,
  ];
}
