/**
 * The exclusive upper bound of the strings starting with `prefix`, in code-point order (which is
 * UTF-8 byte order, the order of `COLLATE "C"` columns): `key >= prefix AND key < bound` is then an
 * index range, even in a generic prepared plan, where `LIKE 'prefix%'` with a parameter is not.
 * `null` when no bound exists (an empty prefix, or one made only of U+10FFFF).
 */
export function prefixUpperBound(prefix: string): string | null {
  const codePoints = Array.from(prefix, (char) => char.codePointAt(0) as number);
  while (codePoints.length > 0) {
    const last = codePoints.pop() as number;
    if (last < 0x10ffff) {
      // No character lies between U+D7FF and U+E000 (the surrogates are not characters).
      codePoints.push(last === 0xd7ff ? 0xe000 : last + 1);
      return String.fromCodePoint(...codePoints);
    }
  }
  return null;
}
