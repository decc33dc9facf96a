/** Text measures shared by every check of a length, so that the library and the HTTP schemas agree. */

/**
 * The length of a string in Unicode code points, as JSON Schema's `minLength`/`maxLength` count
 * it: an emoji is one character, not two UTF-16 units. A lone surrogate counts as one.
 */
export function codePointLength(text: string): number {
  let count = 0;
  for (const _ of text) count++;
  return count;
}
