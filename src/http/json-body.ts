/**
 * The only request body Savepoint reads: JSON, at most `SAVEPOINT_MAX_BODY` bytes (Fastify's
 * `bodyLimit` enforces that while reading, answering 413) and at most {@link MAX_JSON_DEPTH}
 * levels deep. Any other content type answers `400 INVALID_INPUT`.
 */
import type { FastifyInstance } from 'fastify';
import { MAX_JSON_DEPTH } from '../engine/json.js';
import { invalidInput } from '../errors.js';

/**
 * The deepest nesting of arrays and objects in a JSON text, counted without parsing it. It runs
 * before `JSON.parse`, so a hostile `[[[[…` body is refused in one linear pass instead of driving
 * the parser's recursion.
 */
export function jsonDepth(text: string): number {
  let depth = 0;
  let deepest = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text.charCodeAt(i);
    if (inString) {
      if (char === 0x5c /* \ */) i++;
      else if (char === 0x22 /* " */) inString = false;
    } else if (char === 0x22) {
      inString = true;
    } else if (char === 0x7b /* { */ || char === 0x5b /* [ */) {
      depth++;
      if (depth > deepest) deepest = depth;
    } else if (char === 0x7d /* } */ || char === 0x5d /* ] */) {
      depth--;
    }
  }
  return deepest;
}

/**
 * Replaces Fastify's body parsers with one for `application/json`. It keeps Fastify's secure
 * parser (which refuses `__proto__` and `constructor.prototype` keys) and adds the depth limit. An
 * empty body reads as no body, so a DELETE sent with a JSON content type still works.
 */
export function registerJsonBody(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    const text = body as string;
    if (text.trim().length === 0) {
      done(null, undefined);
      return;
    }
    if (jsonDepth(text) > MAX_JSON_DEPTH) {
      done(invalidInput(`The JSON body is nested deeper than ${MAX_JSON_DEPTH} levels`), undefined);
      return;
    }
    parseJson(request, text, done);
  });
}
