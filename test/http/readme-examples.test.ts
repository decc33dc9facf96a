/**
 * The curl examples of docs/http-quickstart.md (which the README quotes) run as written against a
 * real server, and print what the comments under them say.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from '../support/http.js';

const run = promisify(execFile);
const DOC = new URL('../../docs/http-quickstart.md', import.meta.url);
const EXAMPLE_BASE = 'http://127.0.0.1:8787';

interface Example {
  /** The commands of one ```sh block. */
  readonly script: string;
  /** The `# …` lines under the commands: what the output shows. */
  readonly expected: readonly string[];
}

function examplesOf(markdown: string): Example[] {
  const examples: Example[] = [];
  for (const match of markdown.matchAll(/```sh\n([\s\S]*?)```/g)) {
    const lines = (match[1] as string).trimEnd().split('\n');
    examples.push({
      script: lines.filter((line) => !line.startsWith('#')).join('\n'),
      expected: lines.filter((line) => line.startsWith('# ')).map((line) => line.slice(2)),
    });
  }
  return examples;
}

/** Values that differ from run to run: uptime, commit times, the package version, metric counts. */
const VOLATILE = [/"uptimeSeconds":\d+/, /"at":"[^"]*"?/, /"version":"[^"]*"/, /(?<=\}) \d+$/];

/** The literal parts of an expected line: the text between `...` elisions and volatile values. */
function fragmentsOf(expected: string): string[] {
  let parts = expected.split('...');
  for (const pattern of VOLATILE) parts = parts.flatMap((part) => part.split(pattern));
  return parts.map((part) => part.replace(/^[,{]+|[,}]+$/g, '')).filter((part) => part.trim().length >= 3);
}

describe('the HTTP quick start', () => {
  let server: TestServer;
  let cwd: string;
  let examples: Example[];
  beforeAll(async () => {
    cwd = await mkdtemp(join(tmpdir(), 'savepoint-readme-'));
    // No SAVEPOINT_API_KEY: the key is generated into ./data/api-key, as on a first start.
    server = await startTestServer({
      dataDir: join(cwd, 'data'),
      env: { SAVEPOINT_API_KEY: undefined },
      savepoint: { url: `sqlite:${join(cwd, 'data', 'savepoint.db')}` },
    });
    const base = await server.listen();
    examples = examplesOf(await readFile(DOC, 'utf8')).map((example) => ({
      ...example,
      script: example.script.replaceAll(EXAMPLE_BASE, base),
    }));
  });
  afterAll(async () => {
    await server.close();
    await rm(cwd, { recursive: true, force: true });
  });

  it('every curl example runs and prints what the document shows', async () => {
    const curlExamples = examples.filter((example) => example.script.includes('curl'));
    expect(curlExamples.length).toBeGreaterThanOrEqual(9);
    const setup = examples.find((example) => example.script.startsWith('KEY='))?.script ?? '';
    expect(setup).toBe('KEY=$(cat ./data/api-key)');
    for (const example of curlExamples) {
      // Asynchronously: the server answering curl lives in this process.
      const { stdout: output } = await run('bash', ['-c', `set -euo pipefail\n${setup}\n${example.script}`], {
        cwd,
        encoding: 'utf8',
      });
      for (const expected of example.expected) {
        for (const fragment of fragmentsOf(expected)) {
          expect(output.toLowerCase(), `${example.script}\n→ ${output}`).toContain(fragment.toLowerCase());
        }
      }
    }
    expect(server.savepoint.store.driverName).toBe('sqlite');
    expect((await server.savepoint.store.get('profiles', 'p1'))?.value).toEqual({
      name: 'Ada',
      logins: 2,
      last: { seen: 'today' },
    });
  });
});
