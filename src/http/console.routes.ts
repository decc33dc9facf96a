/**
 * `GET /console`: the operator console (docs/console.md), a static page built from `console/` into
 * `dist/console/` by `npm run build`. The page reads and acts only through the public API with the
 * key the operator types in, so its files are public (`auth: 'none'`), even when
 * `SAVEPOINT_PUBLIC_READS=false`: they hold no data.
 *
 * The files are read once, when the server starts, and only the names found then are served, so no
 * request path ever reaches the file system. Every answer carries a strict Content-Security-Policy:
 * same origin only, no inline script or style.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { notFound } from '../errors.js';

/** `dist/console/`, from both `src/http/` (tests run the sources) and `dist/http/` (the package). */
export const CONSOLE_DIR = fileURLToPath(new URL('../../dist/console/', import.meta.url));

export const CONSOLE_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

const CONTENT_TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.map': 'application/json; charset=utf-8',
};

interface ConsoleFile {
  readonly body: Buffer;
  readonly contentType: string;
}

/** The built files by name (flat: the build writes no folders), or an empty map when it has not run. */
function loadConsoleFiles(dir: string): Map<string, ConsoleFile> {
  const files = new Map<string, ConsoleFile>();
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return files;
  }
  for (const name of names) {
    const contentType = CONTENT_TYPES[extname(name)];
    if (contentType === undefined) continue;
    try {
      const path = join(dir, name);
      if (statSync(path).isFile()) files.set(name, { body: readFileSync(path), contentType });
    } catch {
      // Removed between the listing and the read (a build running meanwhile): not served.
    }
  }
  return files;
}

function send(reply: FastifyReply, file: ConsoleFile): FastifyReply {
  return reply
    .header('content-security-policy', CONSOLE_CSP)
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('x-frame-options', 'DENY')
    .header('cache-control', 'no-cache')
    .type(file.contentType)
    .send(file.body);
}

export interface ConsoleRoutesOptions {
  /** Where the built files are; default {@link CONSOLE_DIR}. */
  readonly dir?: string;
}

/** `/console`, `/console/` and `/console/<file>`. */
export async function consoleRoutes(app: FastifyInstance, options: ConsoleRoutesOptions): Promise<void> {
  const files = loadConsoleFiles(options.dir ?? CONSOLE_DIR);
  const routeOptions = { config: { auth: 'none' as const }, schema: { hide: true } };

  const page = (_request: unknown, reply: FastifyReply) => {
    const index = files.get('index.html');
    if (index === undefined)
      throw notFound('The console is not built on this server: run `npm run build` and restart');
    return send(reply, index);
  };
  app.get('/console', routeOptions, page);
  app.get('/console/', routeOptions, page);
  app.get<{ Params: { file: string } }>('/console/:file', routeOptions, async (request, reply) => {
    const file = files.get(request.params.file);
    if (file === undefined) throw notFound(`No console file ${request.params.file}`);
    return send(reply, file);
  });
}
