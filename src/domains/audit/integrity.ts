/**
 * Relationship checks over the stored records, through the engine
 * only: every round and score belongs to an existing match, every game's event log runs 1..head
 * without gaps, every reconnect token belongs to a live game, and every leaderboard board has a
 * definition. The storage's own check (SQLite `integrity_check`) is the driver's, run separately.
 */
import type { Store } from '../../engine/store.js';
import type { StoredDocument } from '../../engine/types.js';
import { GAME_COLLECTION, streamOf, TOKEN_COLLECTION } from '../games/game-record.js';
import { LEADERBOARD_DEFINITION_COLLECTION } from '../leaderboards/leaderboards.js';
import { MATCH_COLLECTION, ROUND_COLLECTION, SCORE_COLLECTION } from '../matches/match-keys.js';

/** Boards defined by code rather than by a `leaderboard-def` document. */
const BUILT_IN_BOARDS = new Set(['lifetime-wins']);

const decodeSegment = (segment: string): string => segment.replace(/%3A/g, ':').replace(/%25/g, '%');

async function* allDocuments(store: Store, collection: string): AsyncGenerator<StoredDocument> {
  let after: string | undefined;
  for (;;) {
    const page = await store.list(collection, { limit: 1000, ...(after === undefined ? {} : { after }) });
    yield* page.items;
    if (page.nextCursor === null) return;
    after = page.nextCursor;
  }
}

async function keysOf(store: Store, collection: string): Promise<Set<string>> {
  const keys = new Set<string>();
  for await (const document of allDocuments(store, collection)) keys.add(document.key);
  return keys;
}

/** The problems found, one readable line each; empty when every relationship holds. */
export async function checkRelationships(store: Store): Promise<string[]> {
  const problems: string[] = [];
  const matches = await keysOf(store, MATCH_COLLECTION);
  for (const collection of [ROUND_COLLECTION, SCORE_COLLECTION]) {
    for await (const { key } of allDocuments(store, collection)) {
      const separator = key.indexOf(':');
      const matchId = decodeSegment(separator === -1 ? key : key.slice(0, separator));
      if (!matches.has(matchId))
        problems.push(`${collection}/${key} belongs to no match (match/${matchId} is missing)`);
    }
  }
  const games = await keysOf(store, GAME_COLLECTION);
  for (const gameId of games) {
    const head = await store.streamHead(streamOf(gameId));
    let expected = 1;
    for (let after = 0; after < head; ) {
      const events = await store.readStream(streamOf(gameId), { after, limit: 10_000 });
      if (events.length === 0) break;
      for (const event of events) {
        if (event.seq !== expected) {
          problems.push(`stream ${streamOf(gameId)}: seq ${event.seq} where ${expected} was expected`);
          expected = event.seq;
        }
        expected++;
      }
      after = events.at(-1)?.seq ?? head;
    }
    if (expected - 1 !== head)
      problems.push(`stream ${streamOf(gameId)}: head is ${head} but the last event is ${expected - 1}`);
  }
  for await (const { key } of allDocuments(store, TOKEN_COLLECTION)) {
    const gameId = key.split('/')[0] ?? key;
    if (!games.has(gameId))
      problems.push(`${TOKEN_COLLECTION}/${key} belongs to no live game (game/${gameId} is missing)`);
  }
  const definitions = await keysOf(store, LEADERBOARD_DEFINITION_COLLECTION);
  for (const { board } of await store.listBoards('leaderboard:')) {
    const name = decodeSegment(board.slice('leaderboard:'.length).split(':')[0] ?? '');
    if (!definitions.has(name) && !BUILT_IN_BOARDS.has(name)) {
      problems.push(`board ${board} has no definition (leaderboard-def/${name} is missing)`);
    }
  }
  return problems;
}
