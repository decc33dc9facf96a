/**
 * The sessions API (docs/api.md#sessions): create, read, replace, delete and list game
 * sessions. Every rule lives in {@link Sessions}; these handlers translate HTTP (conditional
 * headers, status codes) and nothing else.
 */
import { notFound, versionConflict } from '../../errors.js';
import { entityTag, notModified, underCondition, writeCondition } from '../../http-kit/preconditions.js';
import { asPreconditionFailure } from '../../http-kit/problem.js';
import { problemResponses } from '../../http-kit/schemas.js';
import type { ModuleRoutes } from '../../module.js';
import { SESSION_COLLECTION, type Sessions } from './sessions.js';
import {
  CreateSessionBody,
  DeleteSessionQuery,
  ListSessionsQuery,
  SessionPage,
  SessionParams,
  SessionRecord,
  UpdateSessionBody,
} from './sessions.schema.js';

const tags = ['sessions'];

const CONDITIONAL =
  'If-Match: "<version>" writes only at that version (412 VERSION_CONFLICT otherwise); a body expectedVersion answers 409 instead.';

/** `/v1/sessions` and `/v1/sessions/{id}`. */
export const sessionsRoutes: ModuleRoutes<Sessions> = async (app, { api: sessions, store, metrics }) => {
  const created = metrics.counter({
    name: 'sessions_created_total',
    help: 'Sessions created through this server',
  });
  for (const status of ['active', 'completed'] as const) {
    metrics.gauge({
      name: `sessions_${status}`,
      help: `Sessions stored now with status ${status} (exact, across every instance)`,
      async collect() {
        this.set((await sessions.counts())[status]);
      },
    });
  }

  app.post<{ Body: CreateSessionBody }>(
    '/v1/sessions',
    {
      schema: {
        tags,
        summary: 'Create a session',
        description: 'Answers 201 with the new session: a fresh UUID, status active, version 1.',
        body: CreateSessionBody,
        response: { 201: SessionRecord, ...problemResponses(400, 401, 413, 503) },
      },
      // Every field is optional, so no body at all means the same as {}.
      preValidation: async (request) => {
        request.body ??= {};
      },
    },
    async (request, reply) => {
      const { state, options } = request.body;
      const session = await sessions.create({
        ...(state === undefined ? {} : { state }),
        ...(options === undefined ? {} : { options }),
      });
      created.inc();
      reply
        .code(201)
        .header('location', `/v1/sessions/${session.sessionId}`)
        .header('etag', entityTag(session.version));
      return session;
    },
  );

  app.get<{ Params: SessionParams }>(
    '/v1/sessions/:id',
    {
      schema: {
        tags,
        summary: 'Read a session',
        description: 'Sends ETag: "<version>"; If-None-Match with the current ETag answers 304.',
        params: SessionParams,
        response: {
          200: SessionRecord,
          304: { type: 'null', description: 'Not modified' },
          ...problemResponses(400, 401, 404),
        },
      },
    },
    async (request, reply) => {
      const session = await sessions.get(request.params.id);
      if (session === undefined) throw notFound(`No session ${request.params.id}`);
      reply.header('etag', entityTag(session.version));
      if (notModified(request.headers['if-none-match'], session.version)) return reply.code(304).send();
      return session;
    },
  );

  app.put<{ Params: SessionParams; Body: UpdateSessionBody }>(
    '/v1/sessions/:id',
    {
      schema: {
        tags,
        summary: 'Replace a session’s state, and optionally its status',
        description: `Moving to completed (or back) updates the exact session counts in the same commit. ${CONDITIONAL}`,
        params: SessionParams,
        body: UpdateSessionBody,
        response: { 200: SessionRecord, ...problemResponses(400, 401, 404, 409, 412, 413, 503) },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const condition = await writeCondition(store, SESSION_COLLECTION, id, {
        ifMatch: request.headers['if-match'],
        ifNoneMatch: request.headers['if-none-match'],
        expectedVersion: request.body.expectedVersion,
      });
      if (condition.condition.mustNotExist === true) {
        // Sessions are created by POST with an id the server picks: a PUT can only replace one.
        if ((await sessions.get(id)) === undefined) throw notFound(`No session ${id}`);
        throw asPreconditionFailure(versionConflict(`If-None-Match: * failed: session ${id} exists`));
      }
      const { expectedVersion } = condition.condition;
      const session = await underCondition(condition, () =>
        sessions.update(id, {
          state: request.body.state,
          ...(request.body.status === undefined ? {} : { status: request.body.status }),
          ...(expectedVersion === undefined ? {} : { expectedVersion }),
        }),
      );
      reply.header('etag', entityTag(session.version));
      return session;
    },
  );

  app.delete<{ Params: SessionParams; Querystring: DeleteSessionQuery }>(
    '/v1/sessions/:id',
    {
      schema: {
        tags,
        summary: 'Delete a session',
        description: `Answers 204, or 404 when there is no such session. ${CONDITIONAL} (expectedVersion is a query parameter here.)`,
        params: SessionParams,
        querystring: DeleteSessionQuery,
        response: {
          204: { type: 'null', description: 'Deleted' },
          ...problemResponses(400, 401, 404, 409, 412, 503),
        },
      },
    },
    async (request, reply) => {
      const { id } = request.params;
      const condition = await writeCondition(store, SESSION_COLLECTION, id, {
        ifMatch: request.headers['if-match'],
        expectedVersion: request.query.expectedVersion,
      });
      const { expectedVersion } = condition.condition;
      const deleted = await underCondition(condition, () =>
        sessions.delete(id, expectedVersion === undefined ? {} : { expectedVersion }),
      );
      if (!deleted) throw notFound(`No session ${id}`);
      return reply.code(204).send();
    },
  );

  app.get<{ Querystring: ListSessionsQuery }>(
    '/v1/sessions',
    {
      schema: {
        tags,
        summary: 'List sessions, optionally by status',
        description: 'Sessions ascending by id, resumed with cursor.',
        querystring: ListSessionsQuery,
        response: { 200: SessionPage, ...problemResponses(400, 401) },
      },
    },
    async (request) => {
      const { status, limit, cursor } = request.query;
      return sessions.list({
        ...(status === undefined ? {} : { status }),
        ...(limit === undefined ? {} : { limit }),
        ...(cursor === undefined ? {} : { cursor }),
      });
    },
  );
};
