import { describe, expect, it } from 'vitest';
import {
  decodeBusFrame,
  decodeBusMessage,
  encodeBusMessage,
  encodeHeartbeat,
} from '../../src/cache/redis/bus-message.js';
import { cacheTtlMs, decodeEntry, documentOf, encodeEntry } from '../../src/cache/redis/cache-entry.js';
import { TIER_TTL_MS, tierResolver } from '../../src/cache/redis/cache-tiers.js';
import { ChangeDeduper, PENDING_TTL_MS } from '../../src/cache/redis/change-dedupe.js';
import { CLOCK_MARGIN_MS, Heartbeats } from '../../src/cache/redis/heartbeats.js';
import { redisKeys } from '../../src/cache/redis/redis-keys.js';
import type { Change } from '../../src/engine/driver.js';
import type { StoredDocument } from '../../src/engine/types.js';

const document: StoredDocument = {
  collection: 'match',
  key: 'abc',
  value: { round: 1 },
  version: 3,
  createdAt: 1,
  updatedAt: 2,
  expiresAt: 5000,
};

describe('redis keys', () => {
  it('reads like the stored record names and cannot be confused across collections with colons', () => {
    const keys = redisKeys('sp');
    expect(keys.document('match', 'abc')).toBe('sp:doc:match:abc');
    expect(keys.document('round', 'abc:3')).toBe('sp:doc:round:abc:3');
    expect(keys.document('a:b', 'c')).not.toBe(keys.document('a', 'b:c'));
    expect(keys.document('50%', 'x')).toBe('sp:doc:50%25:x');
    expect(keys.epochOf(keys.document('a:b', 'c'))).toBe('sp:epoch:a%3Ab:c');
    expect([keys.generation, keys.changes, keys.ackChannel('i1')]).toEqual([
      'sp:gen',
      'sp:changes',
      'sp:ack:i1',
    ]);
    expect(redisKeys('a*b').everything).toBe('a\\*b:*');
  });
});

describe('cache tiers', () => {
  it('resolves named tiers, numbers and the default', () => {
    const tierOf = tierResolver({ session: 'hot', catalog: 'warm', board: 'computed', token: 1234 });
    expect(tierOf('session')).toBe(TIER_TTL_MS.hot);
    expect(tierOf('catalog')).toBe(24 * 60 * 60 * 1000);
    expect(tierOf('board')).toBe(5 * 60 * 1000);
    expect(tierOf('token')).toBe(1234);
    expect(tierOf('unlisted')).toBe(60 * 60 * 1000);
    expect(tierResolver({}, 'warm')('x')).toBe(TIER_TTL_MS.warm);
    expect(() => tierResolver({ x: 0 })).toThrow(/positive/);
    expect(() => tierResolver({ x: 'cold' as 'hot' })).toThrow(/hot, warm, computed/);
  });
});

describe('cache entries', () => {
  it('round-trips a document and its absence, and ignores other generations', () => {
    const raw = encodeEntry('7', JSON.stringify(document));
    const lookup = decodeEntry(raw, '7', 'match', 'abc');
    expect(lookup).toMatchObject({ expiresAt: 5000 });
    expect(documentOf(lookup as NonNullable<typeof lookup>, 4999)).toEqual(document);
    expect(documentOf(lookup as NonNullable<typeof lookup>, 5000)).toBeUndefined();
    expect(decodeEntry(raw, '8', 'match', 'abc')).toBeUndefined();
    expect(decodeEntry(encodeEntry('7', null), '7', 'match', 'abc')).toEqual({ json: null, expiresAt: null });
    expect(() => decodeEntry(raw, '7', 'match', 'other')).toThrow();
    expect(() => decodeEntry('garbage', '7', 'match', 'abc')).toThrow();
  });

  it('caches until the tier ends or the document expires, whichever is first', () => {
    expect(cacheTtlMs(1000, null, 0)).toBe(1000);
    expect(cacheTtlMs(1000, 300, 100)).toBe(200);
    expect(cacheTtlMs(1000, 100, 100)).toBe(0);
  });
});

describe('bus messages', () => {
  const base = { from: 'i1', id: 4, ack: true };

  it('round-trip', () => {
    const changes: Change[] = [
      { kind: 'document', collection: 'match', key: 'abc', document },
      { kind: 'stream', stream: 's', events: [{ seq: 1, type: 't', data: null, at: 1 }] },
      { kind: 'board', board: 'b' },
    ];
    const raw = encodeBusMessage({ ...base, keys: ['sp:doc:match:abc'], changes }, 10_000);
    expect(decodeBusMessage(raw)).toEqual({ ...base, keys: ['sp:doc:match:abc'], changes });
  });

  it('replaces what does not fit with unknown, and too many keys with null', () => {
    const big: Change = {
      kind: 'document',
      collection: 'c',
      key: 'k',
      document: { ...document, value: 'x'.repeat(5000) },
    };
    const small: Change = { kind: 'board', board: 'b' };
    const raw = encodeBusMessage({ ...base, keys: ['a'], changes: [small, big, small] }, 2048);
    expect(raw.length).toBeLessThan(2048);
    expect(decodeBusMessage(raw).changes).toEqual([small, { kind: 'unknown' }]);
    const keys = Array.from({ length: 100 }, (_, i) => `sp:doc:c:key${i}`);
    expect(decodeBusMessage(encodeBusMessage({ ...base, keys, changes: [] }, 2048)).keys).toBeNull();
  });

  it('rejects what is not a message', () => {
    expect(() => decodeBusMessage('[]')).toThrow();
    expect(() => decodeBusMessage('{"from":"a","id":1,"ack":false,"keys":[1],"changes":[]}')).toThrow();
    expect(() =>
      decodeBusMessage('{"from":"a","id":1,"ack":false,"keys":null,"changes":[{"kind":"x"}]}'),
    ).toThrow();
  });

  it('carries heartbeats beside messages, and refuses malformed ones', () => {
    const heartbeat = { beat: 'alive', from: 'i1', id: 9, leaseMs: 40 } as const;
    expect(decodeBusFrame(encodeHeartbeat(heartbeat))).toEqual(heartbeat);
    expect(decodeBusFrame(encodeBusMessage({ ...base, keys: [], changes: [] }, 2048))).toEqual({
      ...base,
      keys: [],
      changes: [],
    });
    expect(() => decodeBusMessage(encodeHeartbeat(heartbeat))).toThrow(/heartbeat/);
    expect(() => decodeBusFrame('{"beat":"alive","from":"i1","id":9,"leaseMs":0}')).toThrow();
    expect(() => decodeBusFrame('{"beat":"gone","from":"i1","id":9,"leaseMs":40}')).toThrow();
    expect(() => decodeBusFrame('{"beat":"alive","from":"i1","id":9,"leaseMs":60001}')).toThrow();
  });
});

describe('heartbeats', () => {
  it('lets the L1 serve only within a lease of the newest own heartbeat heard back', () => {
    const beats = new Heartbeats(40);
    expect(beats.current(0)).toBe(false);
    beats.subscribed(0);
    beats.sent(1, 10);
    beats.sent(2, 20);
    beats.sent(3, 30);
    expect(beats.current(25)).toBe(false);
    beats.heardOwn(2);
    expect(beats.current(59)).toBe(true);
    expect(beats.current(60)).toBe(false);
    // An earlier heartbeat heard late confirms nothing newer; an unknown id confirms nothing.
    beats.heardOwn(1);
    beats.heardOwn(99);
    expect(beats.current(60)).toBe(false);
    beats.heardOwn(3);
    expect(beats.current(69)).toBe(true);
    // A lost subscription ends the lease, and heartbeats sent before it confirm nothing after.
    beats.sent(4, 70);
    beats.lost();
    beats.heardOwn(4);
    expect(beats.current(71)).toBe(false);
  });

  it('waits for the instances heard within their lease, once the subscription is a lease old', () => {
    const beats = new Heartbeats(40);
    beats.subscribed(100);
    beats.heardPeer('b', 'alive', 40, 110);
    beats.heardPeer('c', 'alive', 80, 120);
    // Younger than a lease (the longest heard): instances may serve on heartbeats it never heard.
    expect(beats.awaited(150)).toBeUndefined();
    expect(beats.fallbackDeadline(150)).toBe(150 + 80 + CLOCK_MARGIN_MS);
    const at = 100 + 80 + CLOCK_MARGIN_MS;
    expect(beats.awaited(at)).toEqual(new Map([['c', 120 + 80 + CLOCK_MARGIN_MS]]));
    // b's lease ran out long ago: forgotten. A leaving instance is forgotten at once.
    expect(beats.peerCount).toBe(1);
    beats.heardPeer('b', 'alive', 40, at);
    beats.heardPeer('c', 'leaving', 80, at);
    expect(beats.awaited(at + 1)).toEqual(new Map([['b', at + 40 + CLOCK_MARGIN_MS]]));
  });
});

describe('change deduplication', () => {
  const change = (version: number, createdAt = 1): Change => ({
    kind: 'document',
    collection: 'c',
    key: 'k',
    document: { ...document, version, createdAt },
  });
  const deleted: Change = { kind: 'document', collection: 'c', key: 'k', document: null };
  const event = (seq: number, at = 10) => ({ seq, type: 't', data: null, at });

  it('delivers a document state once, whichever feed brings it first, and never an older one', () => {
    const deduper = new ChangeDeduper();
    expect(deduper.accept('bus', [change(1)])).toEqual([change(1)]);
    // PostgreSQL read the document back after a second commit: it reports v2 for the first notice.
    expect(deduper.accept('inner', [change(2)])).toEqual([change(2)]);
    expect(deduper.accept('bus', [change(2)])).toEqual([]);
    expect(deduper.accept('inner', [change(2)])).toEqual([]);
    expect(deduper.accept('inner', [change(1)])).toEqual([]);
    expect(deduper.accept('bus', [deleted])).toEqual([deleted]);
    expect(deduper.accept('inner', [deleted])).toEqual([]);
    // Recreated: a new incarnation starts again at version 1.
    expect(deduper.accept('bus', [change(1, 50)])).toEqual([change(1, 50)]);
  });

  it('matches stream events one by one, across joined ranges', () => {
    const deduper = new ChangeDeduper();
    const first: Change = { kind: 'stream', stream: 's', events: [event(1), event(2)] };
    const second: Change = { kind: 'stream', stream: 's', events: [event(3)] };
    expect(deduper.accept('bus', [first, second])).toEqual([first, second]);
    expect(
      deduper.accept('inner', [
        { kind: 'stream', stream: 's', events: [event(1), event(2), event(3), event(4)] },
      ]),
    ).toEqual([{ kind: 'stream', stream: 's', events: [event(4)] }]);
    expect(deduper.accept('bus', [{ kind: 'stream', stream: 's', events: [event(4)] }])).toEqual([]);
    // A stream restarted after expiry has the same seqs at another time: news.
    expect(deduper.accept('bus', [{ kind: 'stream', stream: 's', events: [event(1, 99)] }])).toHaveLength(1);
  });

  it('collapses boards within a batch, counts them across feeds, never swallows unknown', () => {
    const deduper = new ChangeDeduper();
    const board: Change = { kind: 'board', board: 'b' };
    expect(deduper.accept('bus', [board, board])).toEqual([board]);
    expect(deduper.accept('inner', [board])).toEqual([]);
    expect(deduper.accept('inner', [board])).toEqual([board]);
    expect(deduper.accept('bus', [{ kind: 'unknown' }])).toEqual([{ kind: 'unknown' }]);
    expect(deduper.accept('inner', [{ kind: 'unknown' }])).toEqual([{ kind: 'unknown' }]);
    const gone: Change = { kind: 'streamDeleted', stream: 's' };
    expect(deduper.accept('bus', [gone], 0)).toEqual([gone]);
    // A twin that comes too late is news again.
    expect(deduper.accept('inner', [gone], PENDING_TTL_MS + 1)).toEqual([gone]);
  });
});
