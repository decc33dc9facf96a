/**
 * The leaderboards API (docs/api.md#leaderboards). Reads are public while `SAVEPOINT_PUBLIC_READS` is
 * true; writes need the API key. Definitions are read-only through the documents API.
 */
import type { JsonObject } from '../../engine/types.js';
import { notFound } from '../../errors.js';
import { problemResponses } from '../../http-kit/schemas.js';
import type { ModuleRoutes } from '../../module.js';
import type { Leaderboards } from './leaderboards.js';
import {
  BoardParams,
  DefineBody,
  LeaderboardAnswer,
  MemberParams,
  MemberQuery,
  PageAnswer,
  PeriodOnlyQuery,
  StandingAnswer,
  SubmitAnswer,
  SubmitBody,
  TopQuery,
} from './leaderboards.schema.js';

const tags = ['leaderboards'];

/** `/v1/leaderboards/…`. */
export const leaderboardsRoutes: ModuleRoutes<Leaderboards> = async (app, { api: leaderboards }) => {
  app.put<{ Params: BoardParams; Body: DefineBody }>(
    '/v1/leaderboards/:board',
    {
      schema: {
        tags,
        summary: 'Define a leaderboard',
        description:
          "Idempotent. A board's order, operator and period never change: a different one answers 409 VERSION_CONFLICT. keepPeriods may change; lowering it deletes the periods beyond it at once.",
        params: BoardParams,
        body: DefineBody,
        response: { 200: LeaderboardAnswer, ...problemResponses(400, 401, 409, 503) },
      },
    },
    async (request) => leaderboards.define(request.params.board, request.body),
  );

  app.post<{ Params: BoardParams; Body: SubmitBody }>(
    '/v1/leaderboards/:board/scores',
    {
      schema: {
        tags,
        summary: 'Submit a score',
        description:
          "Combines the score with the member's current one by the board's operator, in the current period. Writing to an undefined board defines it as desc/best/none.",
        params: BoardParams,
        body: SubmitBody,
        response: { 200: SubmitAnswer, ...problemResponses(400, 401, 409, 503) },
      },
    },
    async (request) => {
      const { member, score, metadata } = request.body;
      return leaderboards.submit(request.params.board, {
        member,
        score,
        // The schema admits only a JSON object here; the engine checks it again before writing.
        ...(metadata === undefined ? {} : { metadata: metadata as JsonObject }),
      });
    },
  );

  app.get<{ Params: BoardParams; Querystring: TopQuery }>(
    '/v1/leaderboards/:board',
    {
      config: { auth: 'public-read' },
      schema: {
        tags,
        summary: 'Read a page of a leaderboard',
        description:
          'Ranks are 1-based: score by the board order, then the earliest time the score was reached, then member. period defaults to the current one; a malformed period answers 400. 404 for an undefined board.',
        params: BoardParams,
        querystring: TopQuery,
        response: { 200: PageAnswer, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => leaderboards.top(request.params.board, request.query),
  );

  app.get<{ Params: MemberParams; Querystring: MemberQuery }>(
    '/v1/leaderboards/:board/members/:member',
    {
      config: { auth: 'public-read' },
      schema: {
        tags,
        summary: "A member's rank, with the entries around it",
        description: '404 when the member has no score in that period (or the board is undefined).',
        params: MemberParams,
        querystring: MemberQuery,
        response: { 200: StandingAnswer, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const { board, member } = request.params;
      const standing = await leaderboards.member(board, member, request.query);
      if (standing === undefined)
        throw notFound(`${member} has no score on leaderboard ${board} in this period`);
      return standing;
    },
  );

  app.delete<{ Params: MemberParams; Querystring: PeriodOnlyQuery }>(
    '/v1/leaderboards/:board/members/:member',
    {
      schema: {
        tags,
        summary: 'Remove a member',
        description:
          'From the given period (default the current one). Idempotent: 204 whether or not the member was there; 404 only for an undefined board.',
        params: MemberParams,
        querystring: PeriodOnlyQuery,
        response: { 204: { type: 'null', description: 'Removed' }, ...problemResponses(400, 401, 404, 503) },
      },
    },
    async (request, reply) => {
      const { board, member } = request.params;
      await leaderboards.removeMember(board, member, request.query);
      return reply.code(204).send();
    },
  );
};
