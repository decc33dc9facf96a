/**
 * The documents API (docs/api.md#documents): JSON documents by `(collection, key)` for data types that
 * have no module yet, with versions, conditional writes, TTLs, listing and atomic multi-op commits.
 * Collections that modules own are read-only here (`403 FORBIDDEN`).
 */
import type { Store } from '../../engine/store.js';
import type { JsonValue } from '../../engine/types.js';
import { invalidInput, notFound } from '../../errors.js';
import { entityTag, notModified, underCondition, writeCondition } from '../../http-kit/preconditions.js';
import { problemResponses } from '../../http-kit/schemas.js';
import type { ModuleRoutes } from '../../module.js';
import { toCommitAnswer, toEngineOp, toPatch, toRecord, ttlMs } from './documents.js';
import {
  CollectionParams,
  CommitAnswer,
  CommitBody,
  DeleteQuery,
  DocumentPage,
  DocumentParams,
  DocumentRecord,
  ListQuery,
  MAX_KEYS_PER_READ,
  PatchBody,
  PutBody,
} from './documents.schema.js';

const tags = ['documents'];

const CONDITIONAL_HEADERS =
  'Conditional: If-Match: "<version>" (or *) writes only at that version, If-None-Match: * only creates; either answers 412 VERSION_CONFLICT when it fails. A body expectedVersion answers 409 instead.';

/** `/v1/docs/{collection}/{key}`, `/v1/docs/{collection}` and `/v1/commit`. */
export const documentsRoutes: ModuleRoutes<Store> = async (app, { api: store, collections }) => {
  app.get<{ Params: DocumentParams }>(
    '/v1/docs/:collection/:key',
    {
      schema: {
        tags,
        summary: 'Read a document',
        description: 'Sends ETag: "<version>". If-None-Match with the current ETag answers 304.',
        params: DocumentParams,
        response: {
          200: DocumentRecord,
          304: { type: 'null', description: 'Not modified' },
          ...problemResponses(400, 401, 403, 404),
        },
      },
    },
    async (request, reply) => {
      const { collection, key } = request.params;
      collections.assertReadable(collection);
      const document = await store.get(collection, key);
      if (document === undefined) throw notFound(`No document ${collection}/${key}`);
      reply.header('etag', entityTag(document.version));
      if (notModified(request.headers['if-none-match'], document.version)) return reply.code(304).send();
      return toRecord(document);
    },
  );

  app.put<{ Params: DocumentParams; Body: PutBody }>(
    '/v1/docs/:collection/:key',
    {
      schema: {
        tags,
        summary: 'Create or replace a document',
        description: `Answers 201 when it created the document, 200 when it replaced one. ${CONDITIONAL_HEADERS}`,
        params: DocumentParams,
        body: PutBody,
        response: {
          200: DocumentRecord,
          201: DocumentRecord,
          ...problemResponses(400, 401, 403, 409, 412, 413, 503),
        },
      },
    },
    async (request, reply) => {
      const { collection, key } = request.params;
      collections.assertWritable(collection);
      const ttl = ttlMs(request.body.ttl);
      const condition = await writeCondition(store, collection, key, {
        ifMatch: request.headers['if-match'],
        ifNoneMatch: request.headers['if-none-match'],
        expectedVersion: request.body.expectedVersion,
      });
      const result = await underCondition(condition, () =>
        store.commit([
          {
            op: 'put',
            collection,
            key,
            // `unknown` from the schema; the engine checks that it is plain JSON before writing.
            value: request.body.value as JsonValue,
            ...condition.condition,
            ...(ttl === undefined ? {} : { ttlMs: ttl }),
          },
        ]),
      );
      const outcome = toCommitAnswer(result).results[0];
      if (outcome === undefined || outcome.op === 'delete') throw new Error('A put answered no document');
      reply.header('etag', entityTag(outcome.document.version));
      if (outcome.created) reply.code(201).header('location', `/v1/docs/${collection}/${key}`);
      return outcome.document;
    },
  );

  app.patch<{ Params: DocumentParams; Body: PatchBody }>(
    '/v1/docs/:collection/:key',
    {
      schema: {
        tags,
        summary: 'Update a document atomically with patch operators',
        description: `Operators take dot paths ("stats.wins") and apply in this order: $set, $unset, $inc, $max, $min, $push. A missing document answers 404 unless upsert is true (then 201). ${CONDITIONAL_HEADERS}`,
        params: DocumentParams,
        body: PatchBody,
        response: {
          200: DocumentRecord,
          201: DocumentRecord,
          ...problemResponses(400, 401, 403, 404, 409, 412, 413, 503),
        },
      },
    },
    async (request, reply) => {
      const { collection, key } = request.params;
      collections.assertWritable(collection);
      const { upsert, ttl, expectedVersion, ...operators } = request.body;
      const expiry = ttlMs(ttl);
      const condition = await writeCondition(store, collection, key, {
        ifMatch: request.headers['if-match'],
        ifNoneMatch: request.headers['if-none-match'],
        expectedVersion,
      });
      const result = await underCondition(condition, () =>
        store.commit([
          {
            op: 'patch',
            collection,
            key,
            patch: toPatch(operators),
            // If-None-Match: * asks to create, so it implies upsert.
            upsert: upsert === true || condition.condition.mustNotExist === true,
            ...condition.condition,
            ...(expiry === undefined ? {} : { ttlMs: expiry }),
          },
        ]),
      );
      const outcome = toCommitAnswer(result).results[0];
      if (outcome === undefined || outcome.op === 'delete') throw new Error('A patch answered no document');
      reply.header('etag', entityTag(outcome.document.version));
      if (outcome.created) reply.code(201).header('location', `/v1/docs/${collection}/${key}`);
      return outcome.document;
    },
  );

  app.delete<{ Params: DocumentParams; Querystring: DeleteQuery }>(
    '/v1/docs/:collection/:key',
    {
      schema: {
        tags,
        summary: 'Delete a document',
        description: `Answers 204, or 404 when there is no such document. ${CONDITIONAL_HEADERS} (expectedVersion is a query parameter here.)`,
        params: DocumentParams,
        querystring: DeleteQuery,
        response: {
          204: { type: 'null', description: 'Deleted' },
          ...problemResponses(400, 401, 403, 404, 409, 412, 503),
        },
      },
    },
    async (request, reply) => {
      const { collection, key } = request.params;
      collections.assertWritable(collection);
      if (request.headers['if-none-match'] !== undefined)
        throw invalidInput('If-None-Match makes no sense on a delete; use If-Match');
      const condition = await writeCondition(store, collection, key, {
        ifMatch: request.headers['if-match'],
        expectedVersion: request.query.expectedVersion,
      });
      const result = await underCondition(condition, () =>
        store.commit([{ op: 'delete', collection, key, ...condition.condition }]),
      );
      const outcome = result.results[0];
      if (outcome?.op === 'delete' && !outcome.deleted) throw notFound(`No document ${collection}/${key}`);
      return reply.code(204).send();
    },
  );

  app.get<{ Params: CollectionParams; Querystring: ListQuery }>(
    '/v1/docs/:collection',
    {
      schema: {
        tags,
        summary: 'List a collection, or read several keys at once',
        description: `Without keys: a page of documents ascending by key, filtered by prefix, resumed with cursor. With keys=a,b,c: those documents (at most ${MAX_KEYS_PER_READ}), in the order asked; missing keys are left out.`,
        params: CollectionParams,
        querystring: ListQuery,
        response: { 200: DocumentPage, ...problemResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { collection } = request.params;
      collections.assertReadable(collection);
      const { keys, prefix, limit, cursor } = request.query;
      if (keys !== undefined) {
        if (prefix !== undefined || limit !== undefined || cursor !== undefined)
          throw invalidInput('keys cannot be combined with prefix, limit or cursor');
        const list = keys.split(',');
        if (list.length > MAX_KEYS_PER_READ)
          throw invalidInput(`keys lists ${list.length} keys; the limit is ${MAX_KEYS_PER_READ}`);
        const documents = await store.getMany(collection, list);
        return { items: documents.map(toRecord), nextCursor: null };
      }
      const page = await store.list(collection, {
        ...(prefix === undefined ? {} : { prefix }),
        ...(cursor === undefined ? {} : { after: cursor }),
        ...(limit === undefined ? {} : { limit }),
      });
      return { items: page.items.map(toRecord), nextCursor: page.nextCursor };
    },
  );

  app.post<{ Body: CommitBody }>(
    '/v1/commit',
    {
      schema: {
        tags,
        summary: 'Apply several document operations all-or-nothing',
        description:
          'Ops are put, patch and delete, each with optional conditions (expectedVersion, mustNotExist). If any op fails (a condition, a write to a read-only collection, a bad patch), nothing is applied and the error names the op (opIndex). A failed condition answers 409 VERSION_CONFLICT.',
        body: CommitBody,
        response: { 200: CommitAnswer, ...problemResponses(400, 401, 403, 404, 409, 413, 503) },
      },
    },
    async (request) => {
      const ops = request.body.ops.map((op, index) => toEngineOp(op, index, collections));
      return toCommitAnswer(await store.commit(ops));
    },
  );
};
