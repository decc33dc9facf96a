/**
 * Prefix searches as index ranges. SQLite compares TEXT with the BINARY collation, which is UTF-8
 * byte order, which is code-point order; so every string starting with `prefix` lies in
 * `[prefix, prefixUpperBound(prefix))` and an index on the column serves the search (unlike LIKE,
 * which is case-insensitive, or GLOB, whose pattern needs escaping and defeats prepared plans).
 */

const MAX_CODE_POINT = 0x10ffff;
const FIRST_SURROGATE = 0xd800;
const AFTER_SURROGATES = 0xe000;

/**
 * The least string greater than every string that starts with `prefix`, or `null` when there is
 * none (an empty prefix, or one made only of U+10FFFF). `prefix` must be well-formed UTF-16.
 */
export function prefixUpperBound(prefix: string): string | null {
  const codePoints = Array.from(prefix, (char) => char.codePointAt(0) as number);
  while (codePoints.length > 0) {
    const last = codePoints.pop() as number;
    if (last < MAX_CODE_POINT) {
      // Surrogate code points are not characters, so the successor of U+D7FF is U+E000.
      codePoints.push(last + 1 === FIRST_SURROGATE ? AFTER_SURROGATES : last + 1);
      return String.fromCodePoint(...codePoints);
    }
  }
  return null;
}
