/**
 * Authentication as a route option. Every route declares who may call it in its config:
 *
 * - `auth: 'key'` (the default when a route says nothing): `Authorization: Bearer <API key>`;
 * - `auth: 'public-read'`: open for GET and HEAD while `SAVEPOINT_PUBLIC_READS` is true (the
 *   default), otherwise like `key`;
 * - `auth: 'none'`: the route checks its own credential (player endpoints take a reconnect token).
 *
 * @example
 * app.get('/v1/catalog', { config: { auth: 'public-read' } }, handler);
 * app.post('/api/game/:gameId/reconnect', { config: { auth: 'none' } }, handler);
 */
import { hash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { SavepointError } from '../errors.js';

/** Who may call a route; see the module comment. */
export type AuthMode = 'key' | 'public-read' | 'none';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Who may call this route. Default `'key'`. */
    auth?: AuthMode;
  }
}

/** The OpenAPI security scheme name the routes refer to. */
export const SECURITY_SCHEME = 'apiKey';

export interface AuthOptions {
  readonly apiKey: string;
  /** `SAVEPOINT_PUBLIC_READS`. */
  readonly publicReads: boolean;
}

// The one-shot `hash` costs about half of `createHash().update().digest()`.
const digest = (text: string): Buffer => hash('sha256', text, 'buffer');

/**
 * Compares a presented key with the real one in constant time. Both sides are hashed first, so the
 * comparison runs over equal-length digests and the time taken says nothing about the key's length
 * or how many leading characters matched.
 */
export function keyMatches(presented: string, expected: string): boolean {
  return keyMatcher(expected)(presented);
}

/** {@link keyMatches} with the real key's digest computed once, for the per-request hot path. */
export function keyMatcher(expected: string): (presented: string) => boolean {
  const expectedDigest = digest(expected);
  return (presented) => timingSafeEqual(digest(presented), expectedDigest);
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/** The key an `Authorization: Bearer <key>` header presents, or `undefined` for any other header. */
export function presentedKey(header: string | undefined): string | undefined {
  return header === undefined ? undefined : BEARER.exec(header)?.[1];
}

function authModeOf(request: FastifyRequest): AuthMode {
  return request.routeOptions.config.auth ?? 'key';
}

/**
 * Installs the check as an `onRequest` hook, so a refused call costs no body parsing. It also marks
 * each route's OpenAPI entry with the security it needs. Register before any route.
 */
export function registerAuth(app: FastifyInstance, options: AuthOptions): void {
  const matchesKey = keyMatcher(options.apiKey);
  app.addHook('onRoute', (route) => {
    const mode = route.config?.auth ?? 'key';
    if (route.schema === undefined || route.schema.security !== undefined) return;
    // `{}` in a security list means "no credential needed".
    route.schema.security =
      mode === 'key'
        ? [{ [SECURITY_SCHEME]: [] }]
        : mode === 'public-read'
          ? [{}, { [SECURITY_SCHEME]: [] }]
          : [];
  });
  // Callback form, not async: this runs on every request (see server.ts).
  app.addHook('onRequest', (request, _reply, done) => {
    done(refusal(request, options.publicReads, matchesKey));
  });
}

/** Why the request may not call its route, or `undefined` when it may. */
function refusal(
  request: FastifyRequest,
  publicReads: boolean,
  matchesKey: (presented: string) => boolean,
): SavepointError | undefined {
  // Unknown routes answer 404 to everyone: there is nothing behind them to protect.
  if (request.is404) return undefined;
  const mode = authModeOf(request);
  if (mode === 'none') return undefined;
  if (mode === 'public-read' && publicReads && (request.method === 'GET' || request.method === 'HEAD'))
    return undefined;
  const header = request.headers.authorization;
  if (header === undefined) {
    return new SavepointError(
      'UNAUTHORIZED',
      'This call needs the API key: send Authorization: Bearer <key>',
    );
  }
  const presented = presentedKey(header);
  if (presented === undefined) {
    // The usual slip is the bare key (`Authorization: <key>`): calling that "wrong" sends people
    // hunting for another key when only the scheme word is missing.
    return new SavepointError(
      'UNAUTHORIZED',
      'The Authorization header must be the word Bearer, a space, then the key: send Authorization: Bearer <key>',
    );
  }
  if (!matchesKey(presented)) {
    return new SavepointError('UNAUTHORIZED', 'The API key is wrong: send Authorization: Bearer <key>');
  }
  return undefined;
}
