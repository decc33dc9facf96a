/**
 * The catalog API (docs/api.md#catalog): game constants, public reads by default. Answers come from
 * the in-process cache of {@link Catalog}, which the change feed keeps fresh (a seeding by another
 * process shows within a second). Each kind's JSON is serialized once per content, and its ETag
 * is the content hash, so `If-None-Match` answers 304 without a body.
 */
import type { FastifyInstance } from 'fastify';
import { notFound } from '../../errors.js';
import { problemResponses } from '../../http-kit/schemas.js';
import type { ModuleRoutes } from '../../module.js';
import type { Catalog, CatalogKind } from './catalog.js';
import {
  CatalogDiffSchema,
  CatalogKindSchema,
  CatalogOverviewSchema,
  CatalogRecordSchema,
  CatalogVersionsSchema,
  DiffQuery,
  KindParams,
  KindQuery,
  RecordParams,
  RollbackBody,
  RollbackResponse,
} from './catalog.schema.js';

const tags = ['catalog'];
const JSON_TYPE = 'application/json; charset=utf-8';
/** Clients may reuse an answer briefly, then must revalidate (cheap: a 304). */
const CACHE_CONTROL = 'public, max-age=0, must-revalidate';

const NOT_MODIFIED = { type: 'null', description: 'Not modified: the ETag still matches' } as const;

/** True when `If-None-Match` lists `etag` or `*` (weak comparison, RFC 9110 §13.1.2). */
export function etagMatches(header: string | string[] | undefined, etag: string): boolean {
  if (header === undefined) return false;
  const list = Array.isArray(header) ? header.join(',') : header;
  return list.split(',').some((tag) => {
    const trimmed = tag.trim();
    return trimmed === '*' || trimmed.replace(/^W\//, '') === etag;
  });
}

/** `/v1/catalog`, `/v1/catalog/{kind}` and `/v1/catalog/{kind}/{id}`: public reads unless `SAVEPOINT_PUBLIC_READS=false`. */
export const catalogRoutes: ModuleRoutes<Catalog> = async (app, { api: catalog }) => {
  versionRoutes(app, catalog);
  // A cached kind is immutable, so its JSON text is computed once and dropped along with it.
  const bodies = new WeakMap<CatalogKind, string>();

  app.get(
    '/v1/catalog',
    {
      config: { auth: 'public-read' },
      schema: {
        tags,
        summary: 'The catalog version and its kinds',
        description: 'Sends an ETag that changes with the catalog version; If-None-Match answers 304.',
        response: { 200: CatalogOverviewSchema, 304: NOT_MODIFIED, ...problemResponses(401) },
      },
    },
    async (request, reply) => {
      const overview = await catalog.overview();
      const etag = `"catalog-${overview.version}"`;
      reply.header('etag', etag).header('cache-control', CACHE_CONTROL);
      if (etagMatches(request.headers['if-none-match'], etag)) return reply.code(304).send();
      return {
        version: overview.version,
        kinds: overview.kinds.map(({ hash: _hash, ...kind }) => kind),
      };
    },
  );

  app.get<{ Params: KindParams; Querystring: KindQuery }>(
    '/v1/catalog/:kind',
    {
      config: { auth: 'public-read' },
      schema: {
        tags,
        summary: 'Every record of a kind',
        description:
          'Sends an ETag (the content hash); If-None-Match answers 304. With ?version=, that version’s content ' +
          '(the newest load of it) with its own ETag; 404 if the kind never had that version.',
        params: KindParams,
        querystring: KindQuery,
        response: { 200: CatalogKindSchema, 304: NOT_MODIFIED, ...problemResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const { version } = request.query;
      const kind =
        version === undefined
          ? await catalog.kind(request.params.kind)
          : await catalog.kindAt(request.params.kind, version);
      if (kind === undefined) throw notFound(`No catalog kind ${request.params.kind}`);
      reply.header('etag', kind.etag).header('cache-control', CACHE_CONTROL);
      if (etagMatches(request.headers['if-none-match'], kind.etag)) return reply.code(304).send();
      let body = bodies.get(kind);
      if (body === undefined) {
        const { kind: name, version, updatedAt, count, revision, loadedAt, data } = kind;
        body = JSON.stringify({ kind: name, version, updatedAt, count, revision, loadedAt, data });
        bodies.set(kind, body);
      }
      // A string with a JSON content type is sent as it is: serialized once per content, not per request.
      return reply.type(JSON_TYPE).send(body);
    },
  );

  app.get<{ Params: RecordParams }>(
    '/v1/catalog/:kind/:id',
    {
      config: { auth: 'public-read' },
      schema: {
        tags,
        summary: 'One record of a kind',
        description: 'Sends the kind’s ETag; If-None-Match answers 304.',
        params: RecordParams,
        response: { 200: CatalogRecordSchema, 304: NOT_MODIFIED, ...problemResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const { kind: name, id } = request.params;
      const kind = await catalog.kind(name);
      const record = kind?.byId.get(id);
      if (kind === undefined || record === undefined)
        throw notFound(`No record ${id} in catalog kind ${name}`);
      reply.header('etag', kind.etag).header('cache-control', CACHE_CONTROL);
      if (etagMatches(request.headers['if-none-match'], kind.etag)) return reply.code(304).send();
      return reply.type(JSON_TYPE).send(JSON.stringify(record));
    },
  );
};

/** `/v1/catalog-versions/{kind}…`: every load of a kind, diffs between two, and rollback. */
function versionRoutes(app: FastifyInstance, catalog: Catalog): void {
  app.get<{ Params: KindParams }>(
    '/v1/catalog-versions/:kind',
    {
      config: { auth: 'public-read' },
      schema: {
        tags,
        summary: 'Every version of a kind',
        description:
          'Every load that changed the kind keeps its content; newest load first. A version loaded twice (a rollback ' +
          'loads an old one again) appears once per load.',
        params: KindParams,
        response: { 200: CatalogVersionsSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => catalog.versions(request.params.kind),
  );

  app.get<{ Params: KindParams; Querystring: DiffQuery }>(
    '/v1/catalog-versions/:kind/diff',
    {
      config: { auth: 'public-read' },
      schema: {
        tags,
        summary: 'What changed between two versions of a kind',
        description:
          'Record ids added and removed, and for records in both, the top-level fields whose values differ. 404 if ' +
          'either version is unknown.',
        params: KindParams,
        querystring: DiffQuery,
        response: { 200: CatalogDiffSchema, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => catalog.diff(request.params.kind, request.query.from, request.query.to),
  );

  app.post<{ Params: KindParams; Body: RollbackBody }>(
    '/v1/catalog-versions/:kind/rollback',
    {
      schema: {
        tags,
        summary: 'Make an older version of a kind current again',
        description:
          'Loads that version’s content again as a new load: atomic, and idempotent like seeding (when it is already ' +
          'the current content nothing is written). Caches on every instance are invalidated, and the audit log gets ' +
          'a catalog-rollback entry. `savepoint seed --rollback KIND@VERSION` does the same.',
        params: KindParams,
        body: RollbackBody,
        response: { 200: RollbackResponse, ...problemResponses(400, 401, 404, 409, 413, 503) },
      },
    },
    async (request) => {
      const { kind, version } = await catalog.rollback(request.params.kind, request.body.toVersion);
      return { kind, version };
    },
  );
}
