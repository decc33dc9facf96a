/**
 * The adapters sit on top of the library: the core never imports them, nor Keyv or boardgame.io,
 * which are optional peer dependencies; and the adapters use only the public entry point.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = new URL('../../src', import.meta.url).pathname;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sources(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((match) => match[1] as string);
}

describe('adapter boundaries', () => {
  it('no core module imports an adapter, keyv or boardgame.io', () => {
    const offenders = sources(src)
      .filter((file) => !relative(src, file).startsWith('adapters/'))
      .flatMap((file) =>
        importsOf(file)
          .filter((spec) => spec.includes('/adapters/') || /^(keyv|@keyv\/|boardgame\.io)/.test(spec))
          .map((spec) => `${relative(src, file)} imports ${spec}`),
      );
    expect(offenders).toEqual([]);
  });

  it('the adapters reach the library only through its public entry point', () => {
    const adapters = join(src, 'adapters');
    const offenders = sources(adapters).flatMap((file) =>
      importsOf(file)
        .filter((spec) => spec.startsWith('.') && spec !== '../../index.js')
        .map((spec) => `${relative(src, file)} imports ${spec}`),
    );
    expect(offenders).toEqual([]);
    expect(sources(adapters).length).toBe(2);
  });
});
