/**
 * The message one instance publishes on `<prefix>:changes` after each batch it commits:
 *
 * ```json
 * { "from": "<instance id>", "id": 17, "ack": true,
 *   "keys": ["savepoint:doc:match:abc"], "changes": [{ "kind": "document", ... }] }
 * ```
 *
 * - `keys`: the document cache keys the batch wrote; receivers drop them from their L1 (`null`: too
 *   many to list, drop everything).
 * - `changes`: the change feed, as the committing Store emitted it, for receivers' SSE subscribers.
 *   Changes that do not fit the size budget are replaced by one `{ kind: 'unknown' }`, which tells
 *   consumers to re-read.
 * - `ack`: the publisher waits for every receiver to acknowledge on `<prefix>:ack:<from>`, so its
 *   commit resolves only once no instance's L1 can still serve what the commit replaced.
 */
import type { Change } from '../../engine/driver.js';

export interface BusMessage {
  readonly from: string;
  /** Increases per publishing instance; acknowledgements name it. */
  readonly id: number;
  readonly ack: boolean;
  readonly keys: readonly string[] | null;
  readonly changes: readonly Change[];
}

const UNKNOWN: Change = { kind: 'unknown' };
const CHANGE_KINDS = new Set<string>(['document', 'stream', 'streamDeleted', 'board', 'unknown']);

/**
 * Serializes a message in about `maxChars` characters at most: keys beyond a quarter of the budget
 * become `null`, and changes past the budget become one `unknown`.
 */
export function encodeBusMessage(message: BusMessage, maxChars: number): string {
  let keys: string | null = message.keys === null ? 'null' : JSON.stringify(message.keys);
  if (keys.length > maxChars / 4) keys = 'null';
  let budget = maxChars - keys.length;
  const parts: string[] = [];
  for (const change of message.changes) {
    const json = JSON.stringify(change);
    budget -= json.length + 1;
    if (budget < 0) {
      parts.push(JSON.stringify(UNKNOWN));
      break;
    }
    parts.push(json);
  }
  return `{"from":${JSON.stringify(message.from)},"id":${message.id},"ack":${message.ack},"keys":${keys},"changes":[${parts.join(',')}]}`;
}

/** Parses a message; throws on anything that is not one. */
export function decodeBusMessage(raw: string): BusMessage {
  const parsed: unknown = JSON.parse(raw);
  if (typeof parsed !== 'object' || parsed === null) throw new Error('a bus message that is not an object');
  const message = parsed as Record<string, unknown>;
  const { from, id, ack, keys, changes } = message;
  if (typeof from !== 'string' || typeof id !== 'number' || typeof ack !== 'boolean')
    throw new Error('a bus message without from, id and ack');
  if (keys !== null && !(Array.isArray(keys) && keys.every((key) => typeof key === 'string')))
    throw new Error('a bus message whose keys are not strings');
  if (
    !Array.isArray(changes) ||
    !changes.every(
      (change: unknown) =>
        typeof change === 'object' &&
        change !== null &&
        CHANGE_KINDS.has(String((change as { kind?: unknown }).kind)),
    )
  )
    throw new Error('a bus message whose changes are not changes');
  return { from, id, ack, keys: keys as string[] | null, changes: changes as Change[] };
}
