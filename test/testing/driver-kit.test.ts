/**
 * `savepoint/driver`, through the built package entry: the rules every built-in driver shares are
 * there for a driver written elsewhere, and they behave as the built-in drivers need them to (one
 * conflict wording, the patch operators, `best` scores, the rank order as bytes).
 */
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import {
  applyPatch,
  boardSortKey,
  checkDocumentCondition,
  compareBoardEntries,
  decideScore,
  isSavepointError,
  type PreparedScore,
} from 'savepoint/driver';
import { describe, expect, it } from 'vitest';

const scoreOp = (score: number): PreparedScore => ({
  op: 'score',
  board: 'weekly',
  member: 'ann',
  score,
  mode: 'best',
  metadata: undefined,
  metadataJson: undefined,
  order: undefined,
});

describe('savepoint/driver', () => {
  it('is the built package entry, not the source', () => {
    const resolved = createRequire(import.meta.url).resolve('savepoint/driver');
    expect(resolved).toBe(fileURLToPath(new URL('../../dist/engine/driver-kit.js', import.meta.url)));
  });

  it('words a failed condition as every driver does', () => {
    let thrown: unknown;
    try {
      checkDocumentCondition({ collection: 'stats', key: 'p1', expectedVersion: 2 }, 3, 0);
    } catch (error) {
      thrown = error;
    }
    expect(isSavepointError(thrown) && thrown.code).toBe('VERSION_CONFLICT');
    expect(() =>
      checkDocumentCondition({ collection: 'stats', key: 'p1', expectedVersion: 3 }, 3, 0),
    ).not.toThrow();
  });

  it('applies the patch operators', () => {
    expect(applyPatch({ wins: 1, name: 'a' }, { $inc: { wins: 2 }, $set: { 'profile.level': 3 } })).toEqual({
      wins: 3,
      name: 'a',
      profile: { level: 3 },
    });
  });

  it('keeps a best score that was not beaten, and its time', () => {
    const current = { score: 50, reachedAt: 10, metadataJson: null };
    expect(decideScore(scoreOp(40), 'desc', current, 20, 0)).toMatchObject({ changed: false, reachedAt: 10 });
    expect(decideScore(scoreOp(60), 'desc', current, 20, 0)).toMatchObject({
      changed: true,
      score: 60,
      reachedAt: 20,
    });
  });

  it('orders rank keys as bytes the way entries compare', () => {
    const entries = [
      { score: 5, reachedAt: 2, member: 'b' },
      { score: 5, reachedAt: 1, member: 'c' },
      { score: 9, reachedAt: 3, member: 'a' },
      { score: -1, reachedAt: 0, member: 'd' },
    ];
    const byKey = [...entries].sort((a, b) =>
      Buffer.compare(
        boardSortKey('desc', a.score, a.reachedAt, a.member),
        boardSortKey('desc', b.score, b.reachedAt, b.member),
      ),
    );
    expect(byKey.map((entry) => entry.member)).toEqual(['a', 'c', 'b', 'd']);
    expect([...entries].sort((a, b) => compareBoardEntries('desc', a, b))).toEqual(byKey);
  });
});
