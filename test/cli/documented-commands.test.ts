/**
 * The commands README.md and docs/ show work as written in a checkout: no bare `savepoint` (not on
 * the PATH of a fresh clone), every `npx savepoint <command>` names a real command, and the quick
 * start's commands start a server. The servers get PORT=0 and a temporary SAVEPOINT_DATA_DIR
 * through the environment, so the command text itself runs unchanged. `npm ci` and `npm test`, the
 * other quick-start commands, are what CI runs (checked against .ci/run), not run from inside the suite.
 */
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBuilt, ROOT } from './cli-harness.js';

const run = promisify(execFile);

interface Documented {
  readonly file: string;
  readonly text: string;
}

let documents: Documented[];
const dirs: string[] = [];

beforeAll(async () => {
  ensureBuilt();
  const files = ['README.md', ...(await readdir(join(ROOT, 'docs'))).map((name) => join('docs', name))];
  documents = await Promise.all(
    files
      .filter((file) => file.endsWith('.md'))
      .map(async (file) => ({ file, text: await readFile(join(ROOT, file), 'utf8') })),
  );
}, 120_000);
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true });
});

/** The shell commands of a document's code blocks: comments dropped, `a && b` split. */
function commandsOf(markdown: string): string[] {
  const commands: string[] = [];
  for (const block of markdown.matchAll(/```(?:sh|bash)?\n([\s\S]*?)```/g)) {
    for (const line of (block[1] as string).split('\n')) {
      const code = line.replace(/(^|\s+)#.*$/, '').trim();
      if (code !== '') commands.push(...code.split('&&').map((part) => part.trim()));
    }
  }
  return commands;
}

/** The first ```sh block after `heading`. */
function blockAfter(markdown: string, heading: string): string[] {
  const from = markdown.indexOf(heading);
  expect(from).toBeGreaterThanOrEqual(0);
  return commandsOf(markdown.slice(from).match(/```sh\n[\s\S]*?```/)?.[0] ?? '');
}

/** Runs `command` with bash in the checkout; resolves with the `listening on` URL. */
async function startAsWritten(
  command: string,
): Promise<{ child: ChildProcess; url: string; output: () => string }> {
  const dataDir = await mkdtemp(join(tmpdir(), 'savepoint-documented-'));
  dirs.push(dataDir);
  const child = spawn('bash', ['-c', command], {
    cwd: ROOT,
    // Its own process group: `npm start` runs node under a shell; stopping must reach all of them.
    detached: true,
    env: { ...process.env, PORT: '0', SAVEPOINT_DATA_DIR: dataDir, SAVEPOINT_API_KEY: undefined },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  const url = await new Promise<string>((resolve, reject) => {
    const check = (): void => {
      const found = /listening on (http:\/\/\S+)/.exec(output)?.[1];
      if (found !== undefined) resolve(found);
    };
    child.stdout?.on('data', check);
    child.once('exit', (code) => reject(new Error(`\`${command}\` exited (${code}):\n${output}`)));
  });
  return { child, url, output: () => output };
}

async function stop(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  process.kill(-(child.pid as number), 'SIGTERM');
  await exited;
}

describe('the documented commands', () => {
  it('no code block calls a bare `savepoint`, which a fresh clone does not have on its PATH', () => {
    for (const { file, text } of documents) {
      const bare = commandsOf(text).filter((command) => /^savepoint\b/.test(command));
      expect(bare, file).toEqual([]);
    }
  });

  it('every `npx savepoint <command>` they mention is a real command', async () => {
    const { stdout: help } = await run('npx', ['savepoint', '--help'], { cwd: ROOT, encoding: 'utf8' });
    const known = new Set([...help.matchAll(/^ {2}([a-z][a-z-]*)\b/gm)].map((match) => match[1]));
    expect(known).toContain('serve');
    const mentioned = new Set(
      documents.flatMap(({ text }) =>
        [...text.matchAll(/npx savepoint ([a-z][a-z-]*)/g)].map((match) => match[1]),
      ),
    );
    expect(mentioned.size).toBeGreaterThanOrEqual(5);
    for (const command of mentioned) expect(known, `npx savepoint ${command}`).toContain(command);
  });

  it("the quick start's commands: npm ci and npm test are CI's, npm start serves", async () => {
    const readme = documents.find((document) => document.file === 'README.md')?.text ?? '';
    const quickStart = blockAfter(readme, '## Quick start');
    expect(quickStart).toEqual(['npm ci', 'npm start', 'npm test']);
    const ci = await readFile(join(ROOT, '.ci', 'run'), 'utf8');
    expect(ci).toMatch(/^npm ci\b/m);
    expect(ci).toMatch(/npm test$/m);

    const server = await startAsWritten('npm start');
    expect((await fetch(`${server.url}/health`)).status).toBe(200);
    await stop(server.child);
  });

  it("the HTTP quick start's `npx savepoint serve` serves", async () => {
    const quickstart =
      documents.find((document) => document.file === join('docs', 'http-quickstart.md'))?.text ?? '';
    const [command] = blockAfter(quickstart, 'Start the service');
    expect(command).toBe('npx savepoint serve');
    const server = await startAsWritten(command as string);
    expect(server.output()).toMatch(/api key: generated into/);
    expect((await fetch(`${server.url}/`)).status).toBe(200);
    await stop(server.child);
  });
});
