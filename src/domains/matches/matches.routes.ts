/**
 * The matches API (docs/api.md#matches): matches, rounds, per-match scores, completion, lifetime stats
 * and analytics. Every call needs the API key. The module's collections are read-only through the
 * documents API.
 */
import { invalidInput, notFound } from '../../errors.js';
import { entityTag, notModified, underCondition, writeCondition } from '../../http-kit/preconditions.js';
import { problemResponses } from '../../http-kit/schemas.js';
import type { ModuleRoutes } from '../../module.js';
import { toPatch } from '../documents/documents.js';
import { MATCH_COLLECTION, ROUND_COLLECTION, roundKey } from './match-keys.js';
import type { MatchInput } from './match-records.js';
import type { Matches } from './matches.js';
import {
  AnalyticsAnswer,
  AnalyticsBody,
  CompleteAnswer,
  CompleteBody,
  Lifetime,
  MatchBody,
  MatchParams,
  MatchPatchBody,
  MatchRecord,
  MatchScore,
  PlayerParams,
  RoundBody,
  RoundList,
  RoundParams,
  RoundRecord,
  ScoreBody,
  ScoreList,
  ScoreParams,
  ScoresQuery,
  TrophyBody,
  WinnerAnswer,
  WinnerBody,
} from './matches.schema.js';

const tags = ['matches'];
const playerTags = ['players'];

const CONDITIONAL =
  'If-Match: "<version>" writes only at that version and If-None-Match: * only creates (412 VERSION_CONFLICT when either fails); a body expectedVersion answers 409 instead.';
const FINAL =
  'A completed match is final: writes to it, its rounds and its scores answer 409 ALREADY_CLOSED.';

/** `/v1/matches/…` and `/v1/players/{user}/lifetime|trophies`. */
export const matchesRoutes: ModuleRoutes<Matches> = async (app, { api: matches, store }) => {
  app.put<{ Params: MatchParams; Body: MatchBody }>(
    '/v1/matches/:matchId',
    {
      schema: {
        tags,
        summary: 'Create or replace a match',
        description: `Answers 201 when it created the match, 200 when it replaced it. ${CONDITIONAL} ${FINAL}`,
        params: MatchParams,
        body: MatchBody,
        response: { 200: MatchRecord, 201: MatchRecord, ...problemResponses(400, 401, 409, 412, 413, 503) },
      },
    },
    async (request, reply) => {
      const { matchId } = request.params;
      const { expectedVersion, ...fields } = request.body;
      const condition = await writeCondition(store, MATCH_COLLECTION, matchId, {
        ifMatch: request.headers['if-match'],
        ifNoneMatch: request.headers['if-none-match'],
        expectedVersion,
      });
      // The schema checked the named fields; the others are plain JSON from the body parser.
      const { record, created } = await underCondition(condition, () =>
        matches.put(matchId, fields as MatchInput, condition.condition),
      );
      reply.header('etag', entityTag(record.version));
      if (created) reply.code(201).header('location', `/v1/matches/${matchId}`);
      return record;
    },
  );

  app.get<{ Params: MatchParams }>(
    '/v1/matches/:matchId',
    {
      schema: {
        tags,
        summary: 'Read a match',
        description: 'Sends ETag: "<version>". If-None-Match with the current ETag answers 304.',
        params: MatchParams,
        response: {
          200: MatchRecord,
          304: { type: 'null', description: 'Not modified' },
          ...problemResponses(400, 401, 404),
        },
      },
    },
    async (request, reply) => {
      const record = await matches.get(request.params.matchId);
      if (record === undefined) throw notFound(`No match ${request.params.matchId}`);
      reply.header('etag', entityTag(record.version));
      if (notModified(request.headers['if-none-match'], record.version)) return reply.code(304).send();
      return record;
    },
  );

  app.patch<{ Params: MatchParams; Body: MatchPatchBody }>(
    '/v1/matches/:matchId',
    {
      schema: {
        tags,
        summary: 'Update a match atomically with patch operators',
        description: `Operators as in the documents API ($set, $unset, $inc, $max, $min, $push, with dot paths), applied atomically. ${CONDITIONAL} ${FINAL}`,
        params: MatchParams,
        body: MatchPatchBody,
        response: { 200: MatchRecord, ...problemResponses(400, 401, 404, 409, 412, 413, 503) },
      },
    },
    async (request, reply) => {
      const { matchId } = request.params;
      const { expectedVersion, ...operators } = request.body;
      const condition = await writeCondition(store, MATCH_COLLECTION, matchId, {
        ifMatch: request.headers['if-match'],
        ifNoneMatch: request.headers['if-none-match'],
        expectedVersion,
      });
      if (condition.condition.mustNotExist === true)
        throw invalidInput('If-None-Match: * asks to create, and a match is created with PUT');
      const record = await underCondition(condition, () =>
        matches.patch(matchId, toPatch(operators), condition.condition),
      );
      reply.header('etag', entityTag(record.version));
      return record;
    },
  );

  app.put<{ Params: RoundParams; Body: RoundBody }>(
    '/v1/matches/:matchId/rounds/:index',
    {
      schema: {
        tags,
        summary: 'Create or replace a round',
        description: `The round is open (closed: false, no winner). Answers 201 when it created the round, 200 when it replaced it. A closed round keeps its winner: replacing it answers 409 ALREADY_CLOSED. ${CONDITIONAL} ${FINAL}`,
        params: RoundParams,
        body: RoundBody,
        response: {
          200: RoundRecord,
          201: RoundRecord,
          ...problemResponses(400, 401, 404, 409, 412, 413, 503),
        },
      },
    },
    async (request, reply) => {
      const { matchId, index } = request.params;
      const condition = await writeCondition(store, ROUND_COLLECTION, roundKey(matchId, index), {
        ifMatch: request.headers['if-match'],
        ifNoneMatch: request.headers['if-none-match'],
      });
      const { record, created } = await underCondition(condition, () =>
        matches.putRound(matchId, index, request.body, condition.condition),
      );
      reply.header('etag', entityTag(record.version));
      if (created) reply.code(201).header('location', `/v1/matches/${matchId}/rounds/${index}`);
      return record;
    },
  );

  app.get<{ Params: MatchParams }>(
    '/v1/matches/:matchId/rounds',
    {
      schema: {
        tags,
        summary: "List a match's rounds",
        description: 'A JSON array of the rounds, by index.',
        params: MatchParams,
        response: { 200: RoundList, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => matches.listRounds(request.params.matchId),
  );

  app.get<{ Params: RoundParams }>(
    '/v1/matches/:matchId/rounds/:index',
    {
      schema: {
        tags,
        summary: 'Read a round',
        description: 'Sends ETag: "<version>".',
        params: RoundParams,
        response: { 200: RoundRecord, ...problemResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const { matchId, index } = request.params;
      const round = await matches.getRound(matchId, index);
      if (round === undefined) throw notFound(`Match ${matchId} has no round ${index}`);
      reply.header('etag', entityTag(round.version));
      return round;
    },
  );

  app.post<{ Params: RoundParams; Body: WinnerBody }>(
    '/v1/matches/:matchId/rounds/:index/winner',
    {
      schema: {
        tags,
        summary: "Record a round's winner",
        description:
          "One atomic step: the round is closed with its winner, and the winner's match score gets points += points (default 1) and wins += 1. A second call answers 409 ALREADY_CLOSED.",
        params: RoundParams,
        body: WinnerBody,
        response: { 200: WinnerAnswer, ...problemResponses(400, 401, 404, 409, 503) },
      },
    },
    async (request) => matches.closeRound(request.params.matchId, request.params.index, request.body),
  );

  app.post<{ Params: ScoreParams; Body: ScoreBody }>(
    '/v1/matches/:matchId/scores/:user',
    {
      schema: {
        tags,
        summary: "Add to a player's match score",
        description: `An atomic increment of points and wins; answers the new totals. ${FINAL}`,
        params: ScoreParams,
        body: ScoreBody,
        response: { 200: MatchScore, ...problemResponses(400, 401, 404, 409, 503) },
      },
    },
    async (request) => matches.addScore(request.params.matchId, request.params.user, request.body ?? {}),
  );

  app.get<{ Params: MatchParams; Querystring: ScoresQuery }>(
    '/v1/matches/:matchId/scores',
    {
      schema: {
        tags,
        summary: "A match's scores, by points",
        description:
          'Highest points first (limit 1-1000, default 100); ties go to whoever reached the points first.',
        params: MatchParams,
        querystring: ScoresQuery,
        response: { 200: ScoreList, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => ({
      entries: await matches.scores(request.params.matchId, request.query),
    }),
  );

  app.post<{ Params: MatchParams; Body: CompleteBody }>(
    '/v1/matches/:matchId/complete',
    {
      schema: {
        tags,
        summary: 'Complete a match',
        description:
          "One atomic step: status becomes completed; each participant's lifetime record gets matchesPlayed + 1, totalWins + their wins and their trophies; the lifetime-wins leaderboard gets their wins; the match, its rounds and scores expire after SAVEPOINT_MATCH_TTL. Idempotent: a second call counts nothing and answers alreadyCompleted: true.",
        params: MatchParams,
        body: CompleteBody,
        response: { 200: CompleteAnswer, ...problemResponses(400, 401, 404, 409, 503) },
      },
    },
    async (request) => matches.complete(request.params.matchId, { trophies: request.body?.trophies }),
  );

  app.get<{ Params: PlayerParams }>(
    '/v1/players/:user/lifetime',
    {
      schema: {
        tags: playerTags,
        summary: "A player's lifetime statistics",
        description: 'A player with no matches gets zeros, not 404. Lifetime records never expire.',
        params: PlayerParams,
        response: { 200: Lifetime, ...problemResponses(400, 401) },
      },
    },
    async (request) => matches.lifetimes.get(request.params.user),
  );

  app.post<{ Params: PlayerParams; Body: TrophyBody }>(
    '/v1/players/:user/trophies',
    {
      schema: {
        tags: playerTags,
        summary: 'Award a trophy',
        description: "An atomic append to the player's trophies; answers the lifetime record.",
        params: PlayerParams,
        body: TrophyBody,
        response: { 200: Lifetime, ...problemResponses(400, 401, 503) },
      },
    },
    async (request) => matches.lifetimes.addTrophy(request.params.user, request.body.trophy),
  );

  app.post<{ Params: MatchParams; Body: AnalyticsBody }>(
    '/v1/matches/:matchId/analytics',
    {
      schema: {
        tags,
        summary: 'Record analytics samples',
        description:
          'Adds one sample per metric to its running count, mean, min and max, atomically. The record expires SAVEPOINT_ANALYTICS_TTL after its last write and outlives the match.',
        params: MatchParams,
        body: AnalyticsBody,
        response: { 200: AnalyticsAnswer, ...problemResponses(400, 401, 503) },
      },
    },
    async (request) => matches.analytics.record(request.params.matchId, request.body.metrics),
  );

  app.get<{ Params: MatchParams }>(
    '/v1/matches/:matchId/analytics',
    {
      schema: {
        tags,
        summary: "A match's analytics",
        description: '404 when none were recorded (or they expired).',
        params: MatchParams,
        response: { 200: AnalyticsAnswer, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const view = await matches.analytics.get(request.params.matchId);
      if (view === undefined) throw notFound(`No analytics for match ${request.params.matchId}`);
      return view;
    },
  );
};
