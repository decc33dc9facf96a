/**
 * The typed client's wire types, pinned. They are derived from the server's TypeBox schemas
 * (src/client/wire.ts), so a schema that renames, adds or retypes a field the client exposes fails
 * here. Type-only: `npm run typecheck` (part of `npm test`) checks this file; Vitest does not run it.
 */
import type { Static } from '@sinclair/typebox';
import { expectTypeOf } from 'vitest';
import type {
  AppendGameEventsInput,
  CommitOp,
  DocumentPage,
  DocumentRecord,
  GameEvent,
  GameRecord,
  GameStatus,
  Health,
  Json,
  JsonObject,
  ListOptions,
  PatchOptions,
  PersistGameAnswer,
  PersistGameInput,
  Problem,
  ReconnectAnswer,
  ReconnectInput,
} from '../../src/client/index.js';
import type { GameRecordSchema } from '../../src/domains/games/games.schema.js';
import type { ErrorCode } from '../../src/errors.js';

expectTypeOf<GameRecord<{ chips: number }>>().toEqualTypeOf<{
  readonly gameId: string;
  readonly state: { chips: number };
  readonly players: readonly string[];
  readonly phase: string | null;
  readonly status: 'active' | 'completed';
  readonly version: number;
  readonly persistedAt: string;
  readonly lastSeq: number;
}>();
expectTypeOf<GameRecord['state']>().toEqualTypeOf<JsonObject>();
expectTypeOf<GameStatus>().toEqualTypeOf<Static<typeof GameRecordSchema>['status']>();

expectTypeOf<GameEvent<{ amount: number }>>().toEqualTypeOf<{
  readonly seq: number;
  readonly type: string;
  readonly data: { amount: number };
  readonly at: string;
}>();

expectTypeOf<ReconnectAnswer<{ pot: number }>>().toEqualTypeOf<{
  readonly success: true;
  readonly gameState: GameRecord<{ pot: number }>;
  readonly reconnectedAt: string;
  readonly missedEvents: readonly GameEvent[];
  readonly reconnectToken: string;
  readonly tokenExpiresAt: string;
}>();

expectTypeOf<PersistGameAnswer>().toEqualTypeOf<{
  readonly success: true;
  readonly persistedAt: string;
  readonly version: number;
  readonly durable?: false;
}>();

// Inputs stay read-only, so callers may pass frozen arrays and objects.
expectTypeOf<{ state: { pot: 1 }; players: readonly ['ada'] }>().toMatchTypeOf<
  PersistGameInput<{ pot: 1 }>
>();
expectTypeOf<PersistGameInput>().toHaveProperty('status').toEqualTypeOf<GameStatus | undefined>();
expectTypeOf<AppendGameEventsInput['events'][number]>().toEqualTypeOf<{
  readonly type: string;
  readonly data?: Json;
}>();
expectTypeOf<ReconnectInput>().toEqualTypeOf<{
  readonly gameId?: string;
  readonly playerId: string;
  readonly reconnectToken: string;
  readonly lastEventSeq?: number;
}>();

expectTypeOf<DocumentRecord<{ name: string }>>().toEqualTypeOf<{
  readonly collection: string;
  readonly key: string;
  readonly value: { name: string };
  readonly version: number;
  readonly createdAt: string;
  readonly updatedAt: string;
  readonly expiresAt: string | null;
}>();
expectTypeOf<DocumentPage<{ name: string }>>().toEqualTypeOf<{
  readonly items: readonly DocumentRecord<{ name: string }>[];
  readonly nextCursor: string | null;
}>();
expectTypeOf<CommitOp>().toHaveProperty('op').toEqualTypeOf<'put' | 'patch' | 'delete'>();
expectTypeOf<ListOptions>().toEqualTypeOf<{
  readonly prefix?: string;
  readonly limit?: number;
  readonly cursor?: string;
}>();
expectTypeOf<PatchOptions['ttl']>().toEqualTypeOf<string | null | undefined>();

expectTypeOf<Health['status']>().toEqualTypeOf<'ok' | 'degraded'>();
expectTypeOf<Health['storage']>().toEqualTypeOf<{
  readonly ok: boolean;
  readonly pendingWrites: number;
  readonly lastError?: string;
  readonly lastErrorAt?: string;
}>();
expectTypeOf<Problem['code']>().toEqualTypeOf<ErrorCode>();
