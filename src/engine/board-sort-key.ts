/**
 * One byte string per board entry whose byte order (memcmp) is the rank order: score in the
 * board's order, then earliest `reachedAt`, then member by code point. SQL drivers index it, so a
 * rank is a count of keys below one key, and ties need no multi-column comparisons.
 */
import type { BoardOrder } from './types.js';

const scratch = new DataView(new ArrayBuffer(8));

/** Writes a float64 so that unsigned big-endian byte order equals numeric order. */
function writeOrderedFloat(target: Buffer, offset: number, value: number, descending: boolean): void {
  scratch.setFloat64(0, value === 0 ? 0 : value); // -0 and 0 are the same score
  let high = scratch.getUint32(0);
  let low = scratch.getUint32(4);
  if (high & 0x80000000) {
    high = ~high >>> 0;
    low = ~low >>> 0;
  } else {
    high = (high | 0x80000000) >>> 0;
  }
  if (descending) {
    high = ~high >>> 0;
    low = ~low >>> 0;
  }
  target.writeUInt32BE(high, offset);
  target.writeUInt32BE(low, offset + 4);
}

export function boardSortKey(order: BoardOrder, score: number, reachedAt: number, member: string): Buffer {
  const memberBytes = Buffer.from(member, 'utf8');
  const key = Buffer.allocUnsafe(16 + memberBytes.length);
  writeOrderedFloat(key, 0, score, order === 'desc');
  writeOrderedFloat(key, 8, reachedAt, false);
  memberBytes.copy(key, 16);
  return key;
}

/** Compares two entries in rank order, as {@link boardSortKey}'s bytes would (for in-memory boards). */
export function compareBoardEntries(
  order: BoardOrder,
  a: { readonly score: number; readonly reachedAt: number; readonly member: string },
  b: { readonly score: number; readonly reachedAt: number; readonly member: string },
): number {
  if (a.score !== b.score) return order === 'desc' ? b.score - a.score : a.score - b.score;
  if (a.reachedAt !== b.reachedAt) return a.reachedAt - b.reachedAt;
  return compareCodePoints(a.member, b.member);
}

/** Orders strings by Unicode code point (as UTF-8 bytes and SQL's binary collations do), not UTF-16 unit. */
export function compareCodePoints(a: string, b: string): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) {
      // Surrogates (0xD800-0xDFFF) encode code points above 0xFFFF, so they sort after the rest of the BMP.
      const xs = x >= 0xd800 && x <= 0xdfff ? x + 0x2000 : x >= 0xe000 ? x - 0x800 : x;
      const ys = y >= 0xd800 && y <= 0xdfff ? y + 0x2000 : y >= 0xe000 ? y - 0x800 : y;
      return xs - ys;
    }
  }
  return a.length - b.length;
}
