/** Every catalog code is documented, with its status, in docs/errors.md and in the OpenAPI description. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { errorCatalog, errorCodes } from '../../src/errors.js';
import { errorTableMarkdown } from '../../src/http/openapi.js';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

/** `code → status cell` from the Markdown table rows `| \`CODE\` | status | ... |`. */
function tableOf(markdown: string): Map<string, string> {
  const rows = new Map<string, string>();
  for (const match of markdown.matchAll(/^\|\s*`([A-Z_]+)`\s*\|([^|]+)\|/gm)) {
    rows.set(match[1] as string, (match[2] as string).trim());
  }
  return rows;
}

describe('error documentation', () => {
  it('docs/errors.md lists every code with its catalog status, and nothing else', () => {
    const rows = tableOf(doc);
    expect([...rows.keys()].sort()).toEqual([...errorCodes].sort());
    for (const code of errorCodes) {
      expect(rows.get(code)?.startsWith(String(errorCatalog[code].status))).toBe(true);
    }
  });

  it('the OpenAPI description carries the same table', () => {
    const rows = tableOf(errorTableMarkdown());
    expect([...rows.keys()].sort()).toEqual([...errorCodes].sort());
    for (const code of errorCodes) {
      expect(rows.get(code)?.startsWith(String(errorCatalog[code].status))).toBe(true);
    }
  });

  it('statuses besides the catalog one are documented in both', () => {
    expect(tableOf(doc).get('VERSION_CONFLICT')).toContain('412');
    expect(tableOf(errorTableMarkdown()).get('VERSION_CONFLICT')).toContain('412');
  });
});
