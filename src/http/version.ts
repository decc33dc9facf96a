import { readFileSync } from 'node:fs';

/**
 * Savepoint's version, from package.json. This file sits two levels below the package root both
 * as source (`src/http`) and compiled (`dist/http`), so one relative path serves both.
 */
export const SAVEPOINT_VERSION: string = (
  JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }
).version;
