/** Reading a bounded range of a game's event log, page by page. */
import type { Store } from '../../engine/store.js';
import { type GameEvent, streamOf, toGameEvent } from './game-record.js';

/** Events read per page. */
const READ_PAGE = 10_000;

/** The game's events with `after < seq <= last`, ascending. */
export async function readEventRange(
  store: Store,
  gameId: string,
  after: number,
  last: number,
): Promise<GameEvent[]> {
  const events: GameEvent[] = [];
  let cursor = after;
  while (cursor < last) {
    const page = await store.readStream(streamOf(gameId), {
      after: cursor,
      limit: Math.min(READ_PAGE, last - cursor),
    });
    if (page.length === 0) break;
    for (const event of page) if (event.seq <= last) events.push(toGameEvent(event));
    cursor = page[page.length - 1]?.seq ?? last;
  }
  return events;
}
