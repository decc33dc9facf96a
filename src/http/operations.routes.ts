/**
 * Operations (docs/api.md#operations): `GET /health`, `GET /metrics` and `POST /v1/admin/sweep`.
 * The other admin calls (`/v1/admin/audit`, `/v1/admin/backup`, `/v1/admin/check`) are in `admin.routes.ts`.
 */
import { type Static, Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { Health } from '../http-kit/operations.schema.js';
import { PROBLEM_CONTENT_TYPE, problemOf } from '../http-kit/problem.js';
import { problemResponses } from '../http-kit/schemas.js';
import type { Savepoint } from '../savepoint.js';
import { StorageHealth } from './health.js';
import type { ServerContext } from './server-context.js';
import { sweepAll } from './sweeper.js';
import { SAVEPOINT_VERSION } from './version.js';

const SweepBody = Type.Union([
  Type.Object(
    {
      batchSize: Type.Optional(
        Type.Integer({ minimum: 1, maximum: 100_000, description: 'Records per batch; default 1000' }),
      ),
    },
    { additionalProperties: false },
  ),
  Type.Null(),
]);

const SweepAnswer = Type.Object({
  documents: Type.Record(Type.String(), Type.Integer(), { description: 'Removed documents by collection' }),
  streams: Type.Integer({ description: 'Removed streams' }),
  total: Type.Integer(),
});

/** What a Savepoint may report about a fallback taken at start (drivers add this as they learn to). */
function recoveryOf(savepoint: Savepoint): unknown {
  return (savepoint as { readonly recovery?: unknown }).recovery ?? undefined;
}

/** `/health`, `/metrics` and `/v1/admin/sweep`. */
export async function operationsRoutes(app: FastifyInstance, options: ServerContext): Promise<void> {
  const { savepoint, metrics } = options;
  const { store } = savepoint;
  const startedAt = performance.now();
  const health = new StorageHealth(store);
  app.addHook('onClose', async () => health.stop());

  app.get(
    '/health',
    {
      config: { auth: 'public-read' },
      schema: {
        tags: ['operations'],
        summary: 'Is the service up, and is its storage serving?',
        description:
          'Answers 503 STORAGE_UNAVAILABLE (a problem document that also carries the health fields) when the storage cannot serve.',
        response: { 200: Health, ...problemResponses(503) },
      },
    },
    async (_request, reply) => {
      const report = await health.check();
      const recovery = recoveryOf(savepoint);
      // Writes modules queued in memory while the storage was unavailable (games) count as pending too.
      const queued = savepoint.queuedWrites;
      const facts = {
        driver: store.driverName,
        version: SAVEPOINT_VERSION,
        uptimeSeconds: Math.round((performance.now() - startedAt) / 1000),
        storage: { ...report.storage, pendingWrites: report.storage.pendingWrites + queued },
        ...(recovery === undefined ? {} : { recovery }),
      };
      if (report.status !== 'unavailable') {
        return {
          status:
            report.status === 'ok' && (recovery !== undefined || queued > 0) ? 'degraded' : report.status,
          ...facts,
        };
      }
      // A problem document's `status` is the HTTP status, so the health fields other than `status` ride along.
      const detail = `The storage cannot serve: ${report.storage.lastError ?? 'the probe read failed'}`;
      const { problem, headers } = problemOf('STORAGE_UNAVAILABLE', detail);
      return reply
        .code(503)
        .headers(headers)
        .type(PROBLEM_CONTENT_TYPE)
        .send(JSON.stringify({ ...problem, ...facts }));
    },
  );

  app.get(
    '/metrics',
    {
      schema: {
        tags: ['operations'],
        summary: 'Prometheus metrics (text exposition format)',
        produces: ['text/plain'],
        response: { 200: Type.String(), ...problemResponses(401) },
      },
    },
    async (_request, reply) => reply.type(metrics.contentType).send(await metrics.text()),
  );

  app.post<{ Body: Static<typeof SweepBody> }>(
    '/v1/admin/sweep',
    {
      schema: {
        tags: ['operations'],
        summary: 'Remove expired records now',
        description:
          'Expired records are already invisible; this reclaims their space. Answers the counts removed.',
        body: SweepBody,
        response: { 200: SweepAnswer, ...problemResponses(400, 401, 503) },
      },
    },
    async (request) => {
      const totals = await sweepAll(savepoint, {
        batchSize: request.body?.batchSize ?? 1000,
        trigger: 'admin',
        auditEmpty: true,
      });
      return { documents: totals.documents, streams: totals.streams, total: totals.total };
    },
  );
}
