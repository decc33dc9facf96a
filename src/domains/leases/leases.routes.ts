/**
 * The leases API (docs/api.md#leases): named locks with a TTL and a fence. All rules live in
 * {@link Leases}; these handlers only translate durations and times.
 */
import { parseDuration } from '../../config.js';
import { invalidInput, notFound } from '../../errors.js';
import { MAX_SAFE_INTEGER, problemResponses } from '../../http-kit/schemas.js';
import type { ModuleRoutes } from '../../module.js';
import type { Lease, Leases } from './leases.js';
import { AcquireBody, LeaseParams, LeaseRecord, ReleaseQuery, RenewBody } from './leases.schema.js';

const tags = ['leases'];

const toRecord = (lease: Lease) => ({ ...lease, expiresAt: new Date(lease.expiresAt).toISOString() });

function durationMs(text: string | undefined, field: string): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch {
    throw invalidInput(`${field} "${text}" is not a duration such as 5s or 500ms`);
  }
}

/** `/v1/leases/{name}`. */
export const leasesRoutes: ModuleRoutes<Leases> = async (app, { api: leases }) => {
  app.post<{ Params: LeaseParams; Body: AcquireBody }>(
    '/v1/leases/:name',
    {
      schema: {
        tags,
        summary: 'Acquire a lease',
        description:
          'Takes the lease for holder. While another holder has it, retries with exponential backoff and jitter for up to wait, then answers 409 LEASE_HELD with the current holder and expiresAt. Re-acquiring a lease you hold extends it and keeps its fence.',
        params: LeaseParams,
        body: AcquireBody,
        response: { 200: LeaseRecord, ...problemResponses(400, 401, 409) },
      },
    },
    async (request) => {
      const { holder, ttl, wait } = request.body;
      const ttlMs = durationMs(ttl, 'ttl');
      const waitMs = durationMs(wait, 'wait');
      const lease = await leases.acquire(request.params.name, {
        holder,
        ...(ttlMs === undefined ? {} : { ttlMs }),
        ...(waitMs === undefined ? {} : { waitMs }),
      });
      return toRecord(lease);
    },
  );

  app.put<{ Params: LeaseParams; Body: RenewBody }>(
    '/v1/leases/:name',
    {
      schema: {
        tags,
        summary: 'Renew a lease you hold',
        description:
          'Answers 409 LEASE_LOST when the lease expired and someone else took it, or it was released.',
        params: LeaseParams,
        body: RenewBody,
        response: { 200: LeaseRecord, ...problemResponses(400, 401, 409) },
      },
    },
    async (request) => {
      const { holder, fence, ttl } = request.body;
      const ttlMs = durationMs(ttl, 'ttl');
      const lease = await leases.renew(request.params.name, {
        holder,
        fence,
        ...(ttlMs === undefined ? {} : { ttlMs }),
      });
      return toRecord(lease);
    },
  );

  app.delete<{ Params: LeaseParams; Querystring: ReleaseQuery }>(
    '/v1/leases/:name',
    {
      schema: {
        tags,
        summary: 'Release a lease you hold',
        description: 'Answers 409 LEASE_LOST when you do not hold it (any more).',
        params: LeaseParams,
        querystring: ReleaseQuery,
        response: { 204: { type: 'null', description: 'Released' }, ...problemResponses(400, 401, 409) },
      },
    },
    async (request, reply) => {
      const { holder } = request.query;
      const fence = Number(request.query.fence);
      if (!Number.isSafeInteger(fence))
        throw invalidInput(`fence must be an integer from 1 to ${MAX_SAFE_INTEGER}`);
      await leases.release(request.params.name, { holder, fence });
      return reply.code(204).send();
    },
  );

  app.get<{ Params: LeaseParams }>(
    '/v1/leases/:name',
    {
      schema: {
        tags,
        summary: 'Read a lease',
        description: '404 when nobody holds it.',
        params: LeaseParams,
        response: { 200: LeaseRecord, ...problemResponses(400, 401, 404) },
      },
    },
    async (request) => {
      const lease = await leases.get(request.params.name);
      if (lease === undefined) throw notFound(`Nobody holds lease ${request.params.name}`);
      return toRecord(lease);
    },
  );
};
