/**
 * The conformance suite: every engine primitive, condition, expiry rule, concurrency guarantee and
 * the dump contract, run unchanged against any driver under any test runner (after Keyv's
 * `@keyv/test-suite`). A driver's test file only says how to open it; see docs/drivers.md.
 */
import { ManualClock } from '../engine/clock.js';
import { Store } from '../engine/store.js';
import { boardTests } from './boards.js';
import { changeFeedTests } from './change-feed.js';
import { commitTests } from './commits.js';
import {
  type ConformanceContext,
  type ConformanceGroup,
  type DriverFactory,
  type HookFunction,
  type SuiteFunction,
  type TestFunction,
  uniqueFactory,
} from './context.js';
import { documentTests } from './documents.js';
import { dumpTests } from './dump.js';
import { expiryTests } from './expiry.js';
import { idempotencyTests } from './idempotency.js';
import { propertyTests } from './properties.js';
import { streamTests } from './streams.js';

/**
 * The test runner the suite registers its tests with. `import * as vitest from 'vitest'` and
 * `import * as test from 'node:test'` both fit as they are: hooks are `beforeAll`/`afterAll`
 * (Vitest, Jest) or `before`/`after` (node:test, Mocha).
 */
export interface TestRunner {
  /** `describe.skip` reports the groups named in `ConformanceOptions.skip` as skipped. */
  readonly describe: SuiteFunction & { readonly skip?: SuiteFunction };
  readonly it: TestFunction;
  readonly beforeAll?: HookFunction;
  readonly afterAll?: HookFunction;
  readonly before?: HookFunction;
  readonly after?: HookFunction;
}

export interface ConformanceOptions {
  /** Shown in the suite's title, `conformance: <name>`. Default `driver`. */
  readonly name?: string;
  /**
   * Groups the driver does not support, reported as skipped (never left out silently). Tests of
   * other groups that need a skipped one (a board op in an atomic commit) leave that part out, and
   * `dump` is skipped with `boards`, since a dump holds boards.
   */
  readonly skip?: readonly ConformanceGroup[];
  /** Called once after the suite, when every store it opened is closed (drop a schema, a directory). */
  readonly cleanup?: () => void | Promise<void>;
}

const GROUPS: ReadonlyArray<readonly [ConformanceGroup, (context: ConformanceContext) => void]> = [
  ['documents', documentTests],
  ['commits', commitTests],
  ['streams', streamTests],
  ['boards', boardTests],
  ['expiry', expiryTests],
  ['change-feed', changeFeedTests],
  ['properties', propertyTests],
  ['idempotency', idempotencyTests],
  ['dump', dumpTests],
];

function hook(runner: TestRunner, names: 'beforeAll/before' | 'afterAll/after'): HookFunction {
  const found =
    names === 'beforeAll/before' ? (runner.beforeAll ?? runner.before) : (runner.afterAll ?? runner.after);
  if (found === undefined) throw new TypeError(`runConformance: the test runner has no ${names} hook`);
  return found;
}

/**
 * Registers the suite with `runner`: one store from `openDriver` shared by most groups (tests use
 * unique names, so they never see each other's records), and a fresh one per dump test.
 */
export function runConformance(
  runner: TestRunner,
  openDriver: DriverFactory,
  options: ConformanceOptions = {},
): void {
  const name = options.name ?? 'driver';
  const skipped = new Set(options.skip ?? []);
  if (skipped.has('boards')) skipped.add('dump');
  const beforeAll = hook(runner, 'beforeAll/before');
  const afterAll = hook(runner, 'afterAll/after');
  const skipDescribe = runner.describe.skip;
  if (skipped.size > 0 && skipDescribe === undefined)
    throw new TypeError('runConformance: skipping groups needs the test runner’s describe.skip');

  runner.describe(`conformance: ${name}`, () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    let shared: Store | undefined;
    const open = new Set<Store>();

    const context: Omit<ConformanceContext, 'describe'> = {
      store: () => {
        if (shared === undefined) throw new Error(`the ${name} store did not open`);
        return shared;
      },
      clock,
      unique: uniqueFactory(),
      using: async (ownClock, use) => {
        const store = new Store(await openDriver(), { clock: ownClock.now });
        open.add(store);
        try {
          return await use(store);
        } finally {
          open.delete(store);
          await store.close();
        }
      },
      runs: (group) => !skipped.has(group),
      it: runner.it,
      beforeAll,
    };

    beforeAll(async () => {
      shared = new Store(await openDriver(), { clock: clock.now });
    });

    afterAll(async () => {
      await shared?.close();
      // A store a failed test left open (its `using` was cut short by a timeout) is closed here.
      await Promise.all([...open].map((store) => store.close()));
      await options.cleanup?.();
    });

    for (const [group, register] of GROUPS) {
      const describe: SuiteFunction = skipped.has(group)
        ? (title, body) => skipDescribe?.(`${title} (skipped: ${name} leaves out ${group})`, body)
        : runner.describe;
      register({ ...context, describe });
    }
  });
}
