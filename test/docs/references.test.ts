/**
 * Comments and docs point at what the repository ships: its own docs/*.md pages and their
 * sections, never at design notes, seed documents or tracker numbers that live elsewhere. Every
 * `docs/<page>.md#<anchor>` a comment or page cites must exist.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { anchorOf } from '../../scripts/api-reference.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SCANNED = ['src', 'test', 'bench', 'examples', 'console', 'clients', 'docs', 'scripts', 'README.md'];
const SKIPPED_DIRS = new Set(['node_modules', 'dist', 'build', '__pycache__', '.tmp', 'data', 'coverage']);
const TEXT_FILE = /\.(ts|mts|cts|js|mjs|cjs|md|py|html|css|sh|ya?ml|toml)$/;

/** Citations of documents that are not in the repository. */
const OUTSIDE_CITATIONS: readonly { readonly name: string; readonly pattern: RegExp }[] = [
  { name: 'an API design document', pattern: /\bAPI\.md\b/ },
  { name: 'a DESIGN document', pattern: /\bDESIGN(\.md)?\s*§|\bDESIGN\.md\b/ },
  { name: 'a seed document', pattern: /\b[Ss]eeds? 0\d\d|\b[Tt]he seeds\b|\b[Ss]eed's\b/ },
  { name: 'an issue number', pattern: /\b[Ii]ssues? #\d|\(#\d+\)|^\| #\d+ \|/ },
];

function filesUnder(path: string): string[] {
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return TEXT_FILE.test(path) ? [path] : [];
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() && (SKIPPED_DIRS.has(entry.name) || entry.name.endsWith('.egg-info'))
      ? []
      : filesUnder(join(path, entry.name)),
  );
}

const files = SCANNED.flatMap((path) => filesUnder(join(ROOT, path))).map((path) => ({
  path: relative(ROOT, path),
  lines: readFileSync(path, 'utf8').split('\n'),
}));

/** The anchors of a Markdown page, as GitHub makes them (a repeated heading gets `-1`, `-2`…). */
function anchorsOf(page: string): Set<string> {
  const anchors = new Set<string>();
  const seen = new Map<string, number>();
  let inFence = false;
  for (const line of readFileSync(page, 'utf8').split('\n')) {
    if (line.startsWith('```')) inFence = !inFence;
    const heading = inFence ? null : /^#{1,6} (.*)$/.exec(line);
    if (heading?.[1] === undefined) continue;
    const anchor = anchorOf(heading[1].replace(/`/g, ''));
    const count = seen.get(anchor) ?? 0;
    seen.set(anchor, count + 1);
    anchors.add(count === 0 ? anchor : `${anchor}-${count}`);
  }
  return anchors;
}

describe('references', () => {
  it('scans the tree', () => {
    expect(files.length).toBeGreaterThan(100);
    expect(files.some((file) => file.path === 'docs/api.md')).toBe(true);
  });

  it('cite no document outside the repository', () => {
    const found: string[] = [];
    for (const file of files) {
      file.lines.forEach((line, index) => {
        for (const { name, pattern } of OUTSIDE_CITATIONS) {
          if (pattern.test(line)) found.push(`${file.path}:${index + 1} cites ${name}: ${line.trim()}`);
        }
      });
    }
    expect(found).toEqual([]);
  });

  it('to docs pages and sections that exist', () => {
    const anchors = new Map<string, Set<string>>();
    const broken: string[] = [];
    for (const file of files) {
      const inDocs = file.path.startsWith('docs/');
      file.lines.forEach((line, index) => {
        // `docs/<page>.md#<anchor>` anywhere, and in docs pages also relative links `(page.md#anchor)`.
        const citations = [...line.matchAll(/\bdocs\/([\w./-]+\.md)(#[\w-]+)?/g)].map((m) => ({
          page: join(ROOT, 'docs', m[1] ?? ''),
          anchor: m[2],
        }));
        if (inDocs) {
          for (const m of line.matchAll(/\]\((?!https?:)([\w./-]*\.md)?(#[\w-]+)?\)/g)) {
            if (m[1] === undefined && m[2] === undefined) continue;
            citations.push({
              page: m[1] === undefined ? join(ROOT, file.path) : join(ROOT, 'docs', m[1]),
              anchor: m[2],
            });
          }
        }
        for (const { page, anchor } of citations) {
          const where = `${file.path}:${index + 1}`;
          if (!existsSync(page)) {
            broken.push(`${where}: ${relative(ROOT, page)} does not exist`);
            continue;
          }
          if (anchor === undefined) continue;
          const pageAnchors = anchors.get(page) ?? anchorsOf(page);
          anchors.set(page, pageAnchors);
          if (!pageAnchors.has(anchor.slice(1)))
            broken.push(`${where}: ${relative(ROOT, page)}${anchor} has no such section`);
        }
      });
    }
    expect(broken).toEqual([]);
  });
});
