/**
 * A CPU profile of `savepoint serve` on the game-action path: the open-loop benchmark's 200 games
 * at 1,000 actions/s (one event + ~1 KB snapshot each), with `node --cpu-prof` on the server. After
 * the server stops it prints where the time went: self time by function, and the inclusive time
 * of the persist path's own steps. The `.cpuprofile` is kept (open it in Chrome DevTools).
 *
 *   npm run build && node --import tsx bench/games/profile-persist.ts [seconds] [profile dir]
 *   node --import tsx bench/games/profile-persist.ts <file.cpuprofile>   (summarizes a kept profile)
 */
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fmt, line, scratchDir } from '../support/stats.js';
import { keepAliveAgent, openLoop } from './load.js';
import { ACTION_RATE, actionLoad, setUpGames, startSavepoint, WARM_UP_SECONDS } from './open-loop.js';

interface CallFrame {
  readonly functionName: string;
  readonly url: string;
  readonly lineNumber: number;
}

interface ProfileNode {
  readonly id: number;
  readonly callFrame: CallFrame;
  readonly children?: readonly number[];
}

interface CpuProfile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

/** Functions whose inclusive time says what the persist path costs, step by step. */
const PATH_STEPS = [
  'assertJsonValue',
  'copyJson',
  'serializeJson',
  'checkedJson',
  'prepareCommit',
  'diffJson',
  'writeCondition',
  '#load',
  'get',
  'commit',
  'applyBatch',
  'parse',
  'stringify',
];

const where = (frame: CallFrame): string => {
  const file = frame.url.replace(/^.*\/(dist|src|node_modules)\//, '$1/');
  return `${frame.functionName || '(anonymous)'} ${file === '' ? '' : `${file}:${frame.lineNumber + 1}`}`.trim();
};

/** Self and inclusive milliseconds per function (a function counted once per stack for inclusive time). */
function summarizeProfile(profile: CpuProfile): void {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const self = new Map<string, number>();
  const inclusive = new Map<string, number>();
  const inclusiveByName = new Map<string, number>();
  let total = 0;
  let idle = 0;
  profile.samples.forEach((id, i) => {
    const ms = (profile.timeDeltas[i] ?? 0) / 1000;
    total += ms;
    const node = byId.get(id);
    if (node === undefined) return;
    const name = node.callFrame.functionName;
    if (name === '(idle)' || name === '(program)') idle += name === '(idle)' ? ms : 0;
    self.set(where(node.callFrame), (self.get(where(node.callFrame)) ?? 0) + ms);
    const seen = new Set<string>();
    const seenNames = new Set<string>();
    for (let at: number | undefined = id; at !== undefined; at = parent.get(at)) {
      const frame = byId.get(at)?.callFrame;
      if (frame === undefined) break;
      const key = where(frame);
      if (!seen.has(key)) {
        seen.add(key);
        inclusive.set(key, (inclusive.get(key) ?? 0) + ms);
      }
      if (!seenNames.has(frame.functionName)) {
        seenNames.add(frame.functionName);
        inclusiveByName.set(frame.functionName, (inclusiveByName.get(frame.functionName) ?? 0) + ms);
      }
    }
  });
  const busy = total - idle;
  const pct = (ms: number) => `${fmt(ms, 0).padStart(6)} ms ${fmt((100 * ms) / busy, 1).padStart(5)}%`;
  line(`profile: ${fmt(total, 0)} ms sampled, ${fmt(busy, 0)} ms busy (percentages are of busy time)`);
  line('top self time:');
  for (const [name, ms] of [...self]
    .filter(([name]) => !name.startsWith('(idle)'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25))
    line(`  ${pct(ms)}  ${name}`);
  line('inclusive time of the project code (dist/), top 25:');
  for (const [name, ms] of [...inclusive]
    .filter(([name]) => name.includes('dist/'))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 25))
    line(`  ${pct(ms)}  ${name}`);
  line('inclusive time by function name (every file), the persist path steps:');
  for (const name of PATH_STEPS) {
    const ms = inclusiveByName.get(name);
    if (ms !== undefined) line(`  ${pct(ms)}  ${name}`);
  }
}

async function main(): Promise<void> {
  // Given a profile instead of a duration: summarize it again.
  if (process.argv[2]?.endsWith('.cpuprofile') === true) {
    summarizeProfile(JSON.parse(readFileSync(process.argv[2], 'utf8')) as CpuProfile);
    return;
  }
  const seconds = Number(process.argv[2] ?? '15');
  const dir = scratchDir('games-profile');
  const profileDir = process.argv[3] ?? join(dir.path, 'profile');
  mkdirSync(profileDir, { recursive: true });
  const savepoint = await startSavepoint(join(dir.path, 'savepoint'), [
    '--cpu-prof',
    `--cpu-prof-dir=${profileDir}`,
  ]);
  try {
    await setUpGames(savepoint);
    const agent = keepAliveAgent(64);
    const actions = actionLoad(agent, savepoint);
    await openLoop(ACTION_RATE, WARM_UP_SECONDS, actions);
    const result = await openLoop(ACTION_RATE, seconds, actions);
    line(
      `savepoint at ${fmt(ACTION_RATE)}/s for ${fmt(seconds)} s: p50 ${fmt(result.ok.p50Ms, 2)} ms, p99 ${fmt(result.ok.p99Ms, 2)} ms, errors ${result.errors}`,
    );
    agent.destroy();
  } finally {
    await savepoint.stop();
  }
  const file = readdirSync(profileDir).find((name) => name.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no .cpuprofile in ${profileDir}`);
  line(`profile file: ${join(profileDir, file)} (setup and warm-up included)`);
  summarizeProfile(JSON.parse(readFileSync(join(profileDir, file), 'utf8')) as CpuProfile);
  if (process.argv[3] === undefined) dir.remove();
}

await main();
