/**
 * The wire shape of `GET /health`, apart from its route so that the typed client can derive its
 * `Health` type from it (type-only) without reaching the route's server-side imports.
 */
import { type Static, Type } from '@sinclair/typebox';

const Storage = Type.Object({
  ok: Type.Boolean({ description: 'The probe read succeeded' }),
  pendingWrites: Type.Integer({
    description: 'Commits waiting for, or inside, a storage batch, plus game writes queued in memory',
  }),
  lastError: Type.Optional(Type.String({ description: 'The last storage failure seen (kept 5 minutes)' })),
  lastErrorAt: Type.Optional(Type.String({ format: 'date-time' })),
});

export const Health = Type.Object({
  status: Type.Union([Type.Literal('ok'), Type.Literal('degraded')], {
    description:
      'degraded: serving, but a storage error happened in the last 5 minutes, writes are backed up, or a fallback was taken at start',
  }),
  driver: Type.String({ description: 'memory, sqlite, postgres or postgres+redis' }),
  version: Type.String({ description: 'The Savepoint version' }),
  uptimeSeconds: Type.Number(),
  storage: Storage,
  recovery: Type.Optional(
    Type.Unknown({
      description: 'Any fallback taken at start, such as a corrupt file quarantined to a path',
    }),
  ),
});
export type Health = Static<typeof Health>;
