import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expectProblem, json, startTestServer, type TestServer } from '../support/http.js';

let server: TestServer;

beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

describe('leases over HTTP', () => {
  it('acquires, reports the holder to others, renews and releases', async () => {
    const acquired = await server.request({
      method: 'POST',
      url: '/v1/leases/game:42',
      payload: { holder: 'server-a', ttl: '5s' },
    });
    expect(acquired.statusCode).toBe(200);
    const lease = json<{ name: string; holder: string; fence: number; expiresAt: string }>(acquired);
    expect(lease).toMatchObject({ name: 'game:42', holder: 'server-a', fence: 1 });
    expect(Date.parse(lease.expiresAt)).toBeGreaterThan(Date.now());

    const held = expectProblem(
      await server.request({
        method: 'POST',
        url: '/v1/leases/game:42',
        payload: { holder: 'server-b', wait: '50ms' },
      }),
      409,
      'LEASE_HELD',
    );
    expect(held).toMatchObject({ holder: 'server-a', expiresAt: lease.expiresAt });

    expect(json(await server.request({ method: 'GET', url: '/v1/leases/game:42' }))).toEqual(lease);
    const renewed = await server.request({
      method: 'PUT',
      url: '/v1/leases/game:42',
      payload: { holder: 'server-a', fence: lease.fence, ttl: '10s' },
    });
    expect(json(renewed)).toMatchObject({ holder: 'server-a', fence: 1 });

    expectProblem(
      await server.request({ method: 'DELETE', url: '/v1/leases/game:42?holder=server-b&fence=1' }),
      409,
      'LEASE_LOST',
    );
    const released = await server.request({
      method: 'DELETE',
      url: '/v1/leases/game:42?holder=server-a&fence=1',
    });
    expect(released.statusCode).toBe(204);
    expectProblem(await server.request({ method: 'GET', url: '/v1/leases/game:42' }), 404, 'NOT_FOUND');

    const next = json<{ fence: number }>(
      await server.request({ method: 'POST', url: '/v1/leases/game:42', payload: { holder: 'server-b' } }),
    );
    expect(next.fence).toBe(2);
  });

  it('refuses bad input and requires the key', async () => {
    expectProblem(
      await server.request({ method: 'POST', url: '/v1/leases/l1', payload: { holder: 'a', ttl: '2m' } }),
      400,
      'OUT_OF_BOUNDS',
    );
    expectProblem(
      await server.request({ method: 'POST', url: '/v1/leases/l1', payload: { holder: '', ttl: '1s' } }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await server.request({ method: 'POST', url: '/v1/leases/l1', payload: { holder: 'a', extra: 1 } }),
      400,
      'INVALID_INPUT',
    );
    expectProblem(
      await server.request({ method: 'PUT', url: '/v1/leases/l1', payload: { holder: 'a', fence: 1 } }),
      409,
      'LEASE_LOST',
    );
    expectProblem(
      await server.request({ method: 'GET', url: '/v1/leases/l1', anonymous: true }),
      401,
      'UNAUTHORIZED',
    );
  });
});
