/**
 * docs/api.md is generated from the OpenAPI description the server builds from its route schemas
 * (scripts/api-reference.ts). This fails when a route, a field or a description changed and the
 * reference was not regenerated with `npm run docs:api`.
 */
import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { API_REFERENCE_PATH, anchorOf, buildApiReference } from '../../scripts/api-reference.js';

describe('docs/api.md', () => {
  it('is what `npm run docs:api` generates from the running server', async () => {
    const [written, generated] = await Promise.all([
      readFile(API_REFERENCE_PATH, 'utf8'),
      buildApiReference(),
    ]);
    // Compared line by line so a stale file names the first lines that differ.
    expect(written.split('\n'), 'docs/api.md is stale: run npm run docs:api').toEqual(generated.split('\n'));
  });

  it('keeps the section anchors that comments and other pages link to', async () => {
    const headings = (await readFile(API_REFERENCE_PATH, 'utf8'))
      .split('\n')
      .filter((line) => /^#{2,3} /.test(line))
      .map((line) => anchorOf(line.replace(/^#+ /, '')));
    for (const anchor of [
      'conventions',
      'authentication',
      'versions',
      'limits',
      'errors',
      'idempotency',
      'live-store-protection',
      'documents',
      'games',
      'game-history',
      'sessions',
      'stats',
      'rankings',
      'matches',
      'players',
      'leaderboards',
      'catalog',
      'catalog-versions',
      'saves',
      'leases',
      'operations',
      'console',
    ]) {
      expect(headings).toContain(anchor);
    }
  });
});
