/**
 * Idempotency keys shared by two real `savepoint serve` instances on one PostgreSQL schema and one
 * Redis prefix: a key used on A replays on B (and the reverse), a retried `$inc` and a retried
 * reconnect sent to the other instance apply nothing again, and one key sent to both at once
 * applies once. The suite owns its schema and Redis prefix and removes both.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testCluster } from '../support/cluster.js';
import type { ServeProcess } from '../support/processes.js';
import { postgresAvailable, redisAvailable } from '../support/services.js';

const available = (await postgresAvailable()) && (await redisAvailable());
const cluster = testCluster('sp_e2e_idem');
const { auth } = cluster;

interface Answer {
  readonly status: number;
  readonly body: string;
  readonly etag: string | null;
  readonly replayed: boolean;
}

async function send(url: string, method: string, path: string, body: unknown, key?: string): Promise<Answer> {
  const response = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(path.endsWith('/reconnect') ? {} : auth),
      'content-type': 'application/json',
      ...(key === undefined ? {} : { 'idempotency-key': key }),
    },
    body: JSON.stringify(body),
  });
  return {
    status: response.status,
    body: await response.text(),
    etag: response.headers.get('etag'),
    replayed: response.headers.get('idempotent-replayed') === 'true',
  };
}

async function readDoc(url: string, path: string): Promise<{ value: unknown; version: number }> {
  return (await (await fetch(`${url}${path}`, { headers: auth })).json()) as {
    value: unknown;
    version: number;
  };
}

describe.skipIf(!available)('idempotency keys shared by two instances (PostgreSQL + Redis)', () => {
  let a: ServeProcess;
  let b: ServeProcess;

  beforeAll(async () => {
    [a, b] = await Promise.all([cluster.start('A'), cluster.start('B')]);
  }, 120_000);

  afterAll(() => cluster.cleanup(), 30_000);

  it('a key used on A replays on B, and the reverse, with the same answer', async () => {
    const first = await send(a.url, 'PUT', '/v1/docs/things/shared', { value: { n: 1 } }, 'put-1');
    expect(first.status).toBe(201);
    const onB = await send(b.url, 'PUT', '/v1/docs/things/shared', { value: { n: 1 } }, 'put-1');
    expect(onB).toEqual({ ...first, replayed: true });
    const reused = await send(b.url, 'PUT', '/v1/docs/things/shared', { value: { n: 2 } }, 'put-1');
    expect(reused.status).toBe(422);
    expect(JSON.parse(reused.body)).toMatchObject({ code: 'IDEMPOTENCY_KEY_REUSED' });

    const incOnB = await send(b.url, 'PATCH', '/v1/docs/things/shared', { $inc: { n: 1 } }, 'inc-1');
    const incOnA = await send(a.url, 'PATCH', '/v1/docs/things/shared', { $inc: { n: 1 } }, 'inc-1');
    expect(incOnA).toEqual({ ...incOnB, replayed: true });
    expect(await readDoc(a.url, '/v1/docs/things/shared')).toMatchObject({ value: { n: 2 }, version: 2 });
  });

  it('one key sent to both instances at once applies once, with no server error', async () => {
    await send(a.url, 'PUT', '/v1/docs/things/race', { value: { n: 0 } });
    const answers = await Promise.all(
      Array.from({ length: 20 }, (_, index) =>
        send(index % 2 === 0 ? a.url : b.url, 'PATCH', '/v1/docs/things/race', { $inc: { n: 1 } }, 'race-1'),
      ),
    );
    for (const answer of answers) expect([200, 409]).toContain(answer.status);
    expect(await readDoc(b.url, '/v1/docs/things/race')).toMatchObject({ value: { n: 1 }, version: 2 });
  });

  it('a reconnect retried on the other instance gets the same new token', async () => {
    expect(
      (await send(a.url, 'POST', '/api/game/table-1/persist', { state: {}, players: ['ada'] })).status,
    ).toBe(200);
    const issued = await fetch(`${a.url}/api/game/table-1/connection-token?playerId=ada`, { headers: auth });
    const { token } = (await issued.json()) as { token: string };
    const body = { gameId: 'table-1', playerId: 'ada', reconnectToken: token };
    const first = await send(a.url, 'POST', '/api/game/table-1/reconnect', body, 'rc-1');
    expect(first.status).toBe(200);
    const retried = await send(b.url, 'POST', '/api/game/table-1/reconnect', body, 'rc-1');
    expect(retried.status).toBe(200);
    expect(retried.replayed).toBe(true);
    const newToken = (JSON.parse(first.body) as { reconnectToken: string }).reconnectToken;
    expect((JSON.parse(retried.body) as { reconnectToken: string }).reconnectToken).toBe(newToken);
  });
});
