/**
 * The rankings API (docs/api.md#rankings): the Q-table's values, batch writes, reset, and a streamed
 * export with a matching replace-semantics import. Every rule lives in {@link Rankings}; these
 * handlers translate HTTP and nothing else.
 */
import { notFound } from '../../errors.js';
import { problemResponses } from '../../http-kit/schemas.js';
import type { ModuleRoutes } from '../../module.js';
import type { Rankings } from './rankings.js';
import {
  BatchAnswer,
  type BatchBody,
  ExportDocument,
  ImportAnswer,
  type ImportBody,
  RankingEntrySchema,
  RankingParams,
  rankingBodies,
  type SetRankingBody,
} from './rankings.schema.js';

const tags = ['rankings'];

/**
 * The body limit of batch writes and imports, above `SAVEPOINT_MAX_BODY` because a Q-table is
 * big: an entry takes about 50 bytes of JSON, so 100,000 entries are about 5 MB and 1,000,000
 * about 55 MB. The larger of this and `SAVEPOINT_MAX_BODY` applies.
 */
export const RANKINGS_BULK_BODY_LIMIT = 256 * 1024 * 1024;

/** `/v1/rankings…`; bounds are `SAVEPOINT_RANKING_MIN` and `SAVEPOINT_RANKING_MAX`. */
export const rankingsRoutes: ModuleRoutes<Rankings> = async (app, { api: rankings, config, metrics }) => {
  const stopListening = rankings.addBackgroundErrorListener((error) =>
    app.log.warn(
      { err: error },
      'removing replaced rankings failed; it is retried after the next reset or import',
    ),
  );
  const bodies = rankingBodies(rankings.bounds);
  const updated = metrics.counter({
    name: 'rankings_updated_total',
    help: 'Ranking values written through this server',
  });
  const bulkBodyLimit = Math.max(config.maxBodyBytes, RANKINGS_BULK_BODY_LIMIT);

  // Finish what a crashed import or reset left behind, and let deletions finish before the store closes.
  app.addHook('onReady', async () => {
    void rankings.collectGarbage();
  });
  app.addHook('onClose', async () => {
    stopListening();
    await rankings.settled();
  });

  app.get(
    '/v1/rankings/export',
    {
      schema: {
        tags,
        summary: 'Export the whole Q-table',
        description:
          'Streamed in constant memory at any size; count comes after entries. A reset or import during the export aborts the response rather than truncating it.',
        response: { 200: ExportDocument, ...problemResponses(401, 503) },
      },
    },
    async (_request, reply) => {
      return reply
        .type('application/json; charset=utf-8')
        .header('content-disposition', 'attachment; filename="rankings.json"')
        .header('cache-control', 'no-store')
        .send(rankings.exportStream());
    },
  );

  app.post<{ Body: ImportBody }>(
    '/v1/rankings/import',
    {
      bodyLimit: bulkBodyLimit,
      schema: {
        tags,
        summary: 'Replace the Q-table with an export document',
        description: `Replace semantics, atomic at any size. The whole document is checked first: a bad, repeated or out-of-bounds entry answers 400 naming it, and changes nothing. The body may be up to ${bulkBodyLimit} bytes.`,
        body: bodies.ImportBody,
        response: { 200: ImportAnswer, ...problemResponses(400, 401, 413, 503) },
      },
    },
    async (request) => {
      const answer = await rankings.importReplace(request.body);
      updated.inc(answer.imported);
      return answer;
    },
  );

  app.post<{ Body: BatchBody }>(
    '/v1/rankings/batch',
    {
      bodyLimit: bulkBodyLimit,
      schema: {
        tags,
        summary: 'Write several values, all or nothing',
        body: bodies.BatchBody,
        response: { 200: BatchAnswer, ...problemResponses(400, 401, 413, 503) },
      },
    },
    async (request) => {
      const answer = await rankings.setMany(request.body.entries);
      updated.inc(answer.written);
      return answer;
    },
  );

  app.delete(
    '/v1/rankings',
    {
      schema: {
        tags,
        summary: 'Reset the Q-table',
        description: 'Empties the table in one atomic step; the old entries are removed in the background.',
        response: { 204: { type: 'null', description: 'Reset' }, ...problemResponses(401, 503) },
      },
    },
    async (_request, reply) => {
      await rankings.reset();
      return reply.code(204).send();
    },
  );

  app.get<{ Params: RankingParams }>(
    '/v1/rankings/:stateKey/:move',
    {
      schema: {
        tags,
        summary: 'Read one value',
        params: RankingParams,
        response: { 200: RankingEntrySchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const { stateKey, move } = request.params;
      const entry = await rankings.get(stateKey, move);
      if (entry === undefined) throw notFound(`No ranking for ${stateKey} move ${move}`, { stateKey, move });
      return entry;
    },
  );

  app.put<{ Params: RankingParams; Body: SetRankingBody }>(
    '/v1/rankings/:stateKey/:move',
    {
      schema: {
        tags,
        summary: 'Write one value (last writer wins)',
        params: RankingParams,
        body: bodies.SetRankingBody,
        response: { 200: RankingEntrySchema, ...problemResponses(400, 401, 413, 503) },
      },
    },
    async (request) => {
      const { stateKey, move } = request.params;
      const entry = await rankings.set(stateKey, move, request.body.value);
      updated.inc();
      return entry;
    },
  );
};
