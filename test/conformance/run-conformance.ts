/**
 * The conformance suite: every engine primitive, condition, expiry rule and concurrency guarantee,
 * run unchanged against every driver. A driver's test file only says how to open it.
 */
import { afterAll, beforeAll, describe } from 'vitest';
import { ManualClock } from '../../src/engine/clock.js';
import type { Store } from '../../src/engine/store.js';
import { boardTests } from './boards.js';
import { changeFeedTests } from './change-feed.js';
import { commitTests } from './commits.js';
import { type ConformanceContext, type ConformanceTarget, uniqueFactory } from './context.js';
import { documentTests } from './documents.js';
import { expiryTests } from './expiry.js';
import { idempotencyTests } from './idempotency.js';
import { propertyTests } from './properties.js';
import { streamTests } from './streams.js';

export type { ConformanceTarget } from './context.js';

export function runConformance(name: string, target: ConformanceTarget): void {
  describe(`conformance: ${name}`, () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 1));
    let opened: Store | undefined;
    const context: ConformanceContext = {
      store: () => {
        if (opened === undefined) throw new Error(`the ${name} store did not open`);
        return opened;
      },
      clock,
      unique: uniqueFactory(),
    };

    beforeAll(async () => {
      opened = await target.open({ clock: clock.now });
    });

    afterAll(async () => {
      await opened?.close();
      await target.cleanup?.();
    });

    documentTests(context);
    commitTests(context);
    streamTests(context);
    boardTests(context);
    expiryTests(context);
    changeFeedTests(context);
    propertyTests(context);
    idempotencyTests(context);
  });
}
