import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  describeConfig,
  loadConfig,
  maskUrl,
  parseDuration,
  parseSize,
} from '../../src/config.js';

function problemsOf(run: () => unknown): readonly string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error.problems;
    throw error;
  }
  throw new Error('expected a ConfigError');
}

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['2s', 2000],
    ['30m', 1_800_000],
    ['1h', 3_600_000],
    ['7d', 604_800_000],
    ['2w', 1_209_600_000],
    ['1h30m', 5_400_000],
    ['1.5s', 1500],
    ['0', 0],
    [' 30m ', 1_800_000],
  ])('%s is %d ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
  });

  it.each(['', '30', 'abc', '30x', 'm30', '-5m', '5 m', '1e3s', '30m!'])('refuses %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/not a duration/);
  });
});

describe('parseSize', () => {
  it.each([
    ['1048576', 1_048_576],
    ['1mb', 1_048_576],
    ['1MiB', 1_048_576],
    ['512kb', 524_288],
    ['2k', 2048],
    ['1g', 1024 ** 3],
    ['100b', 100],
  ])('%s is %d bytes', (text, bytes) => {
    expect(parseSize(text)).toBe(bytes);
  });

  it.each(['', 'big', '1tb', '-1mb', '1 m b'])('refuses %j', (text) => {
    expect(() => parseSize(text)).toThrow(/not a size/);
  });
});

describe('loadConfig', () => {
  it('has the documented defaults', () => {
    const config = loadConfig({ env: {} });
    expect(config).toMatchObject({
      host: '127.0.0.1',
      port: 8787,
      dataDir: resolve('./data'),
      databaseUrl: `sqlite:${resolve('./data')}/savepoint.db`,
      redisUrl: undefined,
      apiKey: undefined,
      publicReads: true,
      maxBodyBytes: 1024 * 1024,
      tokenTtlMs: 30 * 60_000,
      gameTtlMs: 7 * 86_400_000,
      idempotencyTtlMs: 86_400_000,
      matchTtlMs: 7 * 86_400_000,
      analyticsTtlMs: 30 * 86_400_000,
      rankingMin: -1e6,
      rankingMax: 1e6,
      saveSlots: 3,
      seedDir: undefined,
      sweepIntervalMs: 60_000,
      backupIntervalMs: 3_600_000,
      backupKeep: 24,
      durability: 'normal',
      emaAlpha: 0.1,
      logLevel: 'info',
    });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reads every setting from the environment', () => {
    const config = loadConfig({
      env: {
        HOST: '0.0.0.0',
        PORT: '9000',
        SAVEPOINT_DATA_DIR: '/var/lib/savepoint',
        DATABASE_URL: 'postgres://app:secret@db/savepoint',
        REDIS_URL: 'redis://cache:6379',
        SAVEPOINT_API_KEY: 'k3y-0123456789abcdef',
        SAVEPOINT_PUBLIC_READS: 'false',
        SAVEPOINT_MAX_BODY: '2mb',
        SAVEPOINT_TOKEN_TTL: '10m',
        SAVEPOINT_GAME_TTL: '1d',
        SAVEPOINT_GAME_HISTORY: '0',
        SAVEPOINT_IDEMPOTENCY_TTL: '1h',
        SAVEPOINT_MATCH_TTL: '2d',
        SAVEPOINT_ANALYTICS_TTL: '3d',
        SAVEPOINT_RANKING_MIN: '-5',
        SAVEPOINT_RANKING_MAX: '5',
        SAVEPOINT_SAVE_SLOTS: '5',
        SAVEPOINT_SEED_DIR: '/seeds',
        SAVEPOINT_SWEEP_INTERVAL: '0',
        SAVEPOINT_BACKUP_INTERVAL: '6h',
        SAVEPOINT_BACKUP_KEEP: '3',
        SAVEPOINT_DURABILITY: 'full',
        SAVEPOINT_EMA_ALPHA: '0.5',
        SAVEPOINT_LOG_LEVEL: 'warn',
      },
    });
    expect(config).toMatchObject({
      host: '0.0.0.0',
      port: 9000,
      dataDir: '/var/lib/savepoint',
      databaseUrl: 'postgres://app:secret@db/savepoint',
      redisUrl: 'redis://cache:6379',
      apiKey: 'k3y-0123456789abcdef',
      publicReads: false,
      maxBodyBytes: 2 * 1024 * 1024,
      tokenTtlMs: 600_000,
      gameTtlMs: 86_400_000,
      gameHistory: 0,
      idempotencyTtlMs: 3_600_000,
      matchTtlMs: 2 * 86_400_000,
      analyticsTtlMs: 3 * 86_400_000,
      rankingMin: -5,
      rankingMax: 5,
      saveSlots: 5,
      seedDir: '/seeds',
      sweepIntervalMs: 0,
      backupIntervalMs: 6 * 3_600_000,
      backupKeep: 3,
      durability: 'full',
      emaAlpha: 0.5,
      logLevel: 'warn',
    });
  });

  it('lets flags win over the environment, and derives the database from the data dir', () => {
    const config = loadConfig({
      flags: { host: '::1', port: '0', dataDir: '/flag-dir' },
      env: { HOST: '0.0.0.0', PORT: '9000', SAVEPOINT_DATA_DIR: '/env-dir' },
    });
    expect(config).toMatchObject({
      host: '::1',
      port: 0,
      dataDir: '/flag-dir',
      databaseUrl: 'sqlite:/flag-dir/savepoint.db',
    });
    expect(
      loadConfig({ flags: { database: 'memory:' }, env: { DATABASE_URL: 'sqlite:/x.db' } }).databaseUrl,
    ).toBe('memory:');
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ env: { PORT: '', REDIS_URL: '  ' } })).toMatchObject({
      port: 8787,
      redisUrl: undefined,
    });
  });

  it('names the bad setting and the rule', () => {
    expect(problemsOf(() => loadConfig({ env: { PORT: 'abc' } }))).toEqual([
      'Invalid PORT "abc": expected an integer 0-65535 (0 picks a free port)',
    ]);
    expect(problemsOf(() => loadConfig({ flags: { port: '70000' } }))[0]).toMatch(/^Invalid --port "70000"/);
  });

  it.each([
    ['PORT', '8.5'],
    ['HOST', 'bad host!'],
    ['DATABASE_URL', 'mysql://x'],
    ['REDIS_URL', 'http://cache'],
    ['SAVEPOINT_PUBLIC_READS', 'maybe'],
    ['SAVEPOINT_MAX_BODY', 'huge'],
    ['SAVEPOINT_MAX_BODY', '10'],
    ['SAVEPOINT_TOKEN_TTL', '30'],
    ['SAVEPOINT_TOKEN_TTL', '0'],
    ['SAVEPOINT_GAME_TTL', 'soon'],
    ['SAVEPOINT_GAME_HISTORY', '-1'],
    ['SAVEPOINT_GAME_HISTORY', '10001'],
    ['SAVEPOINT_GAME_HISTORY', 'all'],
    ['SAVEPOINT_IDEMPOTENCY_TTL', 'forever'],
    ['SAVEPOINT_MATCH_TTL', '100y'],
    ['SAVEPOINT_ANALYTICS_TTL', '20000d'],
    ['SAVEPOINT_RANKING_MIN', 'low'],
    ['SAVEPOINT_RANKING_MAX', 'Infinity'],
    ['SAVEPOINT_SAVE_SLOTS', '0'],
    ['SAVEPOINT_SWEEP_INTERVAL', 'often'],
    ['SAVEPOINT_BACKUP_INTERVAL', '-1h'],
    ['SAVEPOINT_BACKUP_KEEP', 'all'],
    ['SAVEPOINT_DURABILITY', 'paranoid'],
    ['SAVEPOINT_EMA_ALPHA', '0'],
    ['SAVEPOINT_EMA_ALPHA', '1.5'],
    ['SAVEPOINT_LOG_LEVEL', 'loud'],
    ['SAVEPOINT_API_KEY', 'has space'],
    ['SAVEPOINT_API_KEY', 'fifteen-chars15'],
  ])('refuses %s=%j', (name, value) => {
    const problems = problemsOf(() => loadConfig({ env: { [name]: value } }));
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatch(new RegExp(`^Invalid ${name} "`));
  });

  it('never repeats the API key in an error', () => {
    const problems = problemsOf(() => loadConfig({ env: { SAVEPOINT_API_KEY: 'super secret' } }));
    expect(problems[0]).not.toContain('super secret');
  });

  it('reports every bad setting at once, and the range check', () => {
    const error = (() => {
      try {
        loadConfig({ env: { PORT: 'x', SAVEPOINT_RANKING_MIN: '10', SAVEPOINT_RANKING_MAX: '1' } });
      } catch (caught) {
        return caught as ConfigError;
      }
      throw new Error('expected a ConfigError');
    })();
    expect(error.code).toBe('INVALID_INPUT');
    expect(error.problems).toHaveLength(2);
    expect(error.message).toContain('Invalid PORT "x"');
    expect(error.message).toContain('SAVEPOINT_RANKING_MIN/MAX');
  });
});

describe('describeConfig', () => {
  it('masks passwords and never prints the API key', () => {
    const config = loadConfig({
      env: {
        DATABASE_URL: 'postgres://app:hunter2@db:5432/savepoint',
        REDIS_URL: 'redis://:redispass@cache:6379',
        SAVEPOINT_API_KEY: 'the-secret-key-0123',
      },
    });
    const text = describeConfig(config).join('\n');
    expect(text).toContain('postgres://app:***@db:5432/savepoint');
    expect(text).toContain('redis://:***@cache:6379');
    expect(text).not.toContain('hunter2');
    expect(text).not.toContain('redispass');
    expect(text).not.toContain('the-secret-key');
    expect(text).toContain('port=8787');
  });

  it('masks password parameters too', () => {
    expect(maskUrl('postgres://db/x?user=a&password=p4ss')).toBe('postgres://db/x?user=a&password=***');
    expect(maskUrl('sqlite:./data/x.db')).toBe('sqlite:./data/x.db');
  });
});
