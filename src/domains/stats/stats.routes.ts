/**
 * The stats API (docs/api.md#stats): record finished games, read the summary, reset.
 * Every rule lives in {@link Stats}; these handlers translate HTTP and nothing else.
 */
import { problemResponses } from '../../http-kit/schemas.js';
import type { ModuleRoutes } from '../../module.js';
import type { Stats } from './stats.js';
import { RecordedGame, RecordGameBody, StatsSummary } from './stats.schema.js';

const tags = ['stats'];

/** `/v1/stats/games`, `/v1/stats/summary` and `DELETE /v1/stats`; the EMA weight is `SAVEPOINT_EMA_ALPHA`. */
export const statsRoutes: ModuleRoutes<Stats> = async (app, { api: stats, metrics }) => {
  const recorded = metrics.counter({
    name: 'games_recorded_total',
    help: 'Games recorded through this server',
  });

  app.post<{ Body: RecordGameBody }>(
    '/v1/stats/games',
    {
      schema: {
        tags,
        summary: 'Record a finished game',
        description:
          'Counts the game, its outcome and every metric (moves and durationMs included) atomically; answers 201 once it is durable. Counts are exact under any concurrency.',
        body: RecordGameBody,
        response: { 201: RecordedGame, ...problemResponses(400, 401, 413, 503) },
      },
    },
    async (request, reply) => {
      const game = await stats.recordGame(request.body);
      recorded.inc();
      return reply.code(201).send(game);
    },
  );

  app.get(
    '/v1/stats/summary',
    {
      schema: {
        tags,
        summary: 'Read the statistics',
        description:
          'Games by outcome, running figures per metric (mean is sum / count), and exact session counts.',
        response: { 200: StatsSummary, ...problemResponses(401) },
      },
    },
    async () => stats.summary(),
  );

  app.delete(
    '/v1/stats',
    {
      schema: {
        tags,
        summary: 'Reset the statistics',
        description:
          'Zeroes gamesRecorded, outcomes, metrics and sessions.created in one atomic step. sessions.active and sessions.completed count the sessions stored now, so they are kept.',
        response: { 204: { type: 'null', description: 'Reset' }, ...problemResponses(401, 503) },
      },
    },
    async (_request, reply) => {
      await stats.reset();
      return reply.code(204).send();
    },
  );
};
