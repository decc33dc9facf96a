/**
 * The save slots API (docs/api.md#saves). Every rule lives in {@link Saves}; these handlers
 * translate HTTP (conditional headers, status codes) and nothing else.
 */
import { notFound } from '../../errors.js';
import { entityTag, notModified, underCondition, writeCondition } from '../../http-kit/preconditions.js';
import { problemResponses } from '../../http-kit/schemas.js';
import type { ModuleRoutes } from '../../module.js';
import { SAVE_COLLECTION, type Saves } from './saves.js';
import {
  DeleteSaveQuery,
  PutSaveBody,
  SaveRecord,
  SlotList,
  SlotParams,
  UserParams,
} from './saves.schema.js';

const tags = ['saves'];

const CONDITIONAL =
  'If-Match: "<version>" writes only at that version and If-None-Match: * only into an empty slot (412 VERSION_CONFLICT otherwise); a body expectedVersion answers 409 instead.';

/** The slot number in a path; anything but plain digits becomes NaN, which the module refuses as OUT_OF_BOUNDS. */
const slotOf = (text: string): number => (/^\d{1,9}$/.test(text) ? Number(text) : Number.NaN);

/** `/v1/players/{user}/saves` and `/v1/players/{user}/saves/{slot}`; slots per player are `SAVEPOINT_SAVE_SLOTS`. */
export const savesRoutes: ModuleRoutes<Saves> = async (app, { api, store }) => {
  // Annotated: `assertSlot` is an assertion, which TypeScript only applies through a declared type.
  const saves: Saves = api;
  const slotParams = SlotParams(saves.slotCount);

  app.get<{ Params: UserParams }>(
    '/v1/players/:user/saves',
    {
      schema: {
        tags,
        summary: 'List a player’s occupied save slots',
        params: UserParams,
        response: { 200: SlotList, ...problemResponses(400, 401) },
      },
    },
    async (request) => saves.list(request.params.user),
  );

  app.get<{ Params: SlotParams }>(
    '/v1/players/:user/saves/:slot',
    {
      schema: {
        tags,
        summary: 'Read a save slot',
        description: 'Sends ETag: "<version>"; If-None-Match with the current ETag answers 304.',
        params: slotParams,
        response: {
          200: SaveRecord,
          304: { type: 'null', description: 'Not modified' },
          ...problemResponses(400, 401, 404),
        },
      },
    },
    async (request, reply) => {
      const { user } = request.params;
      const slot = slotOf(request.params.slot);
      const save = await saves.get(user, slot);
      if (save === undefined) throw notFound(`Slot ${slot} of ${user} is empty`, { user, slot });
      reply.header('etag', entityTag(save.version));
      if (notModified(request.headers['if-none-match'], save.version)) return reply.code(304).send();
      return save;
    },
  );

  app.put<{ Params: SlotParams; Body: PutSaveBody }>(
    '/v1/players/:user/saves/:slot',
    {
      schema: {
        tags,
        summary: 'Write a save slot',
        description: `Answers 201 when the slot was empty, 200 when it replaced a save. ${CONDITIONAL}`,
        params: slotParams,
        body: PutSaveBody,
        response: { 200: SaveRecord, 201: SaveRecord, ...problemResponses(400, 401, 409, 412, 413, 503) },
      },
    },
    async (request, reply) => {
      const { user } = request.params;
      const slot = slotOf(request.params.slot);
      saves.assertSlot(slot);
      const condition = await writeCondition(store, SAVE_COLLECTION, `${user}:${slot}`, {
        ifMatch: request.headers['if-match'],
        ifNoneMatch: request.headers['if-none-match'],
        expectedVersion: request.body.expectedVersion,
      });
      const { save, created } = await underCondition(condition, () =>
        saves.put(user, slot, request.body.state, condition.condition),
      );
      reply.header('etag', entityTag(save.version));
      if (created) reply.code(201).header('location', `/v1/players/${user}/saves/${slot}`);
      return save;
    },
  );

  app.delete<{ Params: SlotParams; Querystring: DeleteSaveQuery }>(
    '/v1/players/:user/saves/:slot',
    {
      schema: {
        tags,
        summary: 'Empty a save slot',
        description: `Answers 204, or 404 when the slot is already empty. ${CONDITIONAL} (expectedVersion is a query parameter here.)`,
        params: slotParams,
        querystring: DeleteSaveQuery,
        response: {
          204: { type: 'null', description: 'Emptied' },
          ...problemResponses(400, 401, 404, 409, 412, 503),
        },
      },
    },
    async (request, reply) => {
      const { user } = request.params;
      const slot = slotOf(request.params.slot);
      saves.assertSlot(slot);
      const condition = await writeCondition(store, SAVE_COLLECTION, `${user}:${slot}`, {
        ifMatch: request.headers['if-match'],
        expectedVersion: request.query.expectedVersion,
      });
      const { expectedVersion } = condition.condition;
      await underCondition(condition, () =>
        saves.delete(user, slot, expectedVersion === undefined ? {} : { expectedVersion }),
      );
      return reply.code(204).send();
    },
  );
};
