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
 * - `ack`: the publisher waits for the instances it knows to be serving an L1 to acknowledge on
 *   `<prefix>:ack:<from>` (as `{"from": "<instance>", "ids": [17, 18]}`, every message it handled in one socket read), each for no longer than its lease; see heartbeats.ts.
 *
 * Every instance also publishes a {@link Heartbeat} on the same channel every quarter of its lease:
 *
 * ```json
 * { "beat": "alive", "from": "<instance id>", "id": 18, "leaseMs": 40 }
 * ```
 *
 * `leaving` (sent on close) tells the others to stop waiting for that instance at once.
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

/** An instance's heartbeat: it is alive (and serving its L1 under a lease of `leaseMs`), or leaving. */
export interface Heartbeat {
  readonly beat: 'alive' | 'leaving';
  readonly from: string;
  readonly id: number;
  readonly leaseMs: number;
}

/** A longer lease in a heartbeat is refused: commits would wait that long for a stalled sender. */
export const MAX_LEASE_MS = 60_000;

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

export function encodeHeartbeat(heartbeat: Heartbeat): string {
  return JSON.stringify({
    beat: heartbeat.beat,
    from: heartbeat.from,
    id: heartbeat.id,
    leaseMs: heartbeat.leaseMs,
  });
}

/** Parses a message; throws on anything that is not one (a heartbeat included). */
export function decodeBusMessage(raw: string): BusMessage {
  const decoded = decodeBusFrame(raw);
  if ('beat' in decoded) throw new Error('a heartbeat where a bus message was expected');
  return decoded;
}

/** Parses whatever `<prefix>:changes` carries: a message or a heartbeat; throws on anything else. */
export function decodeBusFrame(raw: string): BusMessage | Heartbeat {
  const parsed: unknown = JSON.parse(raw);
  if (typeof parsed !== 'object' || parsed === null) throw new Error('a bus message that is not an object');
  const message = parsed as Record<string, unknown>;
  if ('beat' in message) return heartbeatOf(message);
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

function heartbeatOf(message: Record<string, unknown>): Heartbeat {
  const { beat, from, id, leaseMs } = message;
  if (
    (beat !== 'alive' && beat !== 'leaving') ||
    typeof from !== 'string' ||
    typeof id !== 'number' ||
    typeof leaseMs !== 'number' ||
    !(leaseMs > 0 && leaseMs <= MAX_LEASE_MS)
  )
    throw new Error(`a heartbeat without beat, from, id and a leaseMs from 1 to ${MAX_LEASE_MS}`);
  return { beat, from, id, leaseMs };
}
