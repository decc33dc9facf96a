import { afterAll, describe, expect, it } from 'vitest';
import { Sessions } from '../../src/domains/sessions/sessions.js';
import { expectCode } from '../support/expect-code.js';
import { testStorages } from '../support/storages.js';

const { storages, cleanup } = await testStorages('sp_sessions');
afterAll(cleanup);

/** `[name, open]` for every driver of the one list that runs. */
const drivers = storages
  .filter((storage) => storage.enabled)
  .map((storage) => [storage.name, () => storage.openStore()] as const);

describe.each(drivers)('sessions on %s', (_name, open) => {
  it('creates, reads, updates, completes and deletes a session', async () => {
    const store = await open();
    const sessions = new Sessions(store);
    const created = await sessions.create({ state: { board: '.........' }, options: { ai: 'q' } });
    expect(created).toMatchObject({
      state: { board: '.........' },
      options: { ai: 'q' },
      status: 'active',
      version: 1,
    });
    expect(created.sessionId).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Date(created.createdAt).toISOString()).toBe(created.createdAt);
    expect(await sessions.get(created.sessionId)).toEqual(created);

    const moved = await sessions.update(created.sessionId, { state: { board: 'X........' } });
    expect(moved).toMatchObject({ status: 'active', version: 2, state: { board: 'X........' } });
    const done = await sessions.update(created.sessionId, {
      state: { board: 'XXX......' },
      status: 'completed',
      expectedVersion: 2,
    });
    expect(done).toMatchObject({ status: 'completed', version: 3, options: { ai: 'q' } });
    await expectCode(
      sessions.update(created.sessionId, { state: {}, expectedVersion: 2 }),
      'VERSION_CONFLICT',
    );
    expect(await sessions.counts()).toEqual({ created: 1, active: 0, completed: 1 });

    expect(await sessions.delete(created.sessionId)).toBe(true);
    expect(await sessions.delete(created.sessionId)).toBe(false);
    expect(await sessions.get(created.sessionId)).toBeUndefined();
    await expectCode(sessions.update(created.sessionId, { state: {} }), 'NOT_FOUND');
    expect(await sessions.counts()).toEqual({ created: 1, active: 0, completed: 0 });
    await store.close();
  });

  it('refuses bad input', async () => {
    const store = await open();
    const sessions = new Sessions(store);
    await expectCode(sessions.create({ state: [] as never }), 'INVALID_INPUT');
    const { sessionId } = await sessions.create();
    await expectCode(sessions.update(sessionId, { state: {}, status: 'won' as never }), 'INVALID_INPUT');
    await expectCode(sessions.list({ limit: 0 }), 'INVALID_INPUT');
    expect(await sessions.get('not-a-uuid')).toBeUndefined();
    await store.close();
  });

  it('lists by status, page by page', async () => {
    const store = await open();
    const sessions = new Sessions(store);
    const all = await Promise.all(Array.from({ length: 25 }, () => sessions.create()));
    const completed = new Set(all.slice(0, 10).map((s) => s.sessionId));
    await Promise.all([...completed].map((id) => sessions.update(id, { state: {}, status: 'completed' })));

    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await sessions.list({ status: 'completed', limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(3);
      for (const item of page.items) expect(item.status).toBe('completed');
      seen.push(...page.items.map((item) => item.sessionId));
      cursor = page.nextCursor ?? undefined;
    } while (cursor !== undefined);
    expect(new Set(seen)).toEqual(completed);
    expect(seen).toHaveLength(10);

    const everything = await sessions.list({ limit: 1000 });
    expect(everything.items).toHaveLength(25);
    expect(everything.nextCursor).toBeNull();
    await store.close();
  });

  it('keeps exact counts under concurrent creates, transitions and deletes', async () => {
    const store = await open();
    // Several instances over one store behave like several processes: no shared in-process state.
    const instances = Array.from({ length: 4 }, () => new Sessions(store));
    const created = await Promise.all(
      Array.from({ length: 60 }, (_, i) => (instances[i % 4] as Sessions).create()),
    );
    const ids = created.map((s) => s.sessionId);
    // Each of 30 sessions is completed by two clients at once; it must count once.
    await Promise.all(
      ids
        .slice(0, 30)
        .flatMap((id, i) => [
          (instances[i % 4] as Sessions).update(id, { state: { by: 'a' }, status: 'completed' }),
          (instances[(i + 1) % 4] as Sessions).update(id, { state: { by: 'b' }, status: 'completed' }),
        ]),
    );
    // Delete 10 completed and 10 active ones, each twice at once.
    const doomed = [...ids.slice(0, 10), ...ids.slice(40, 50)];
    const deletions = await Promise.all(
      doomed.flatMap((id, i) => [
        (instances[i % 4] as Sessions).delete(id),
        (instances[(i + 2) % 4] as Sessions).delete(id),
      ]),
    );
    expect(deletions.filter(Boolean)).toHaveLength(20);
    expect(await instances[0]?.counts()).toEqual({ created: 60, active: 20, completed: 20 });
    const listed = await instances[0]?.list({ limit: 1000 });
    expect(listed?.items.filter((s) => s.status === 'active')).toHaveLength(20);
    expect(listed?.items.filter((s) => s.status === 'completed')).toHaveLength(20);
    await store.close();
  });
});
