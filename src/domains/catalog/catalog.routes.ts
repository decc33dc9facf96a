/**
 * The catalog API (API.md, Catalog): game constants, public reads by default. Answers come from
 * the in-process cache of {@link Catalog}, which the change feed keeps fresh (a seeding by another
 * process shows within a second). Each kind's JSON is serialized once per content, and its ETag
 * is the content hash, so `If-None-Match` answers 304 without a body.
 */
import { notFound } from '../../errors.js';
import type { DomainPlugin } from '../../http/domain-plugin.js';
import { reserveCollections } from '../../http/reserved-collections.js';
import { problemResponses } from '../../http/schemas.js';
import { CATALOG_COLLECTION, CATALOG_ITEM_COLLECTION, Catalog, type CatalogKind } from './catalog.js';
import {
  CatalogKindSchema,
  CatalogOverviewSchema,
  CatalogRecordSchema,
  KindParams,
  RecordParams,
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
export const catalogRoutes: DomainPlugin = async (app, { savepoint }) => {
  const catalog = new Catalog(savepoint.store);
  reserveCollections([CATALOG_COLLECTION, CATALOG_ITEM_COLLECTION], { owner: 'the catalog module' });
  app.addHook('onClose', async () => catalog.close());
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

  app.get<{ Params: KindParams }>(
    '/v1/catalog/:kind',
    {
      config: { auth: 'public-read' },
      schema: {
        tags,
        summary: 'Every record of a kind',
        description: 'Sends an ETag (the content hash); If-None-Match answers 304.',
        params: KindParams,
        response: { 200: CatalogKindSchema, 304: NOT_MODIFIED, ...problemResponses(400, 401, 404) },
      },
    },
    async (request, reply) => {
      const kind = await catalog.kind(request.params.kind);
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
