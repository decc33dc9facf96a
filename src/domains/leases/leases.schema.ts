import { type Static, Type } from '@sinclair/typebox';
import {
  Duration,
  Id,
  MAX_SAFE_INTEGER,
  PositiveDuration,
  SafeInteger,
  Time,
} from '../../http-kit/schemas.js';
import { validatedAs } from '../../http-kit/validated-schema.js';

export const LeaseParams = Type.Object(
  { name: Id('The lease name, e.g. game:42') },
  { additionalProperties: false },
);
export type LeaseParams = Static<typeof LeaseParams>;

const Holder = Type.String({ minLength: 1, maxLength: 200, description: 'Who holds or wants the lease' });
const Fence = SafeInteger(1, 'Increases every time the lease changes hands');

/**
 * A lease TTL, from 1 ms to 60 s. The module checks the range, to answer `400 OUT_OF_BOUNDS` as
 * the contract says; the validator checks only that it is a duration.
 */
const LeaseTtl = (description: string) =>
  validatedAs(PositiveDuration(`${description}; from 1ms to 60s`), Duration(description));

export const AcquireBody = Type.Object(
  {
    holder: Holder,
    ttl: Type.Optional(LeaseTtl('How long the lease lasts unless renewed; default 5s')),
    wait: Type.Optional(
      Duration('How long to keep trying while another holder has it; default 0s, at most 60s'),
    ),
  },
  { additionalProperties: false },
);
export type AcquireBody = Static<typeof AcquireBody>;

export const RenewBody = Type.Object(
  {
    holder: Holder,
    fence: Fence,
    ttl: Type.Optional(LeaseTtl('The new lease duration; default 5s')),
  },
  { additionalProperties: false },
);
export type RenewBody = Static<typeof RenewBody>;

export const ReleaseQuery = Type.Object(
  {
    holder: Holder,
    fence: validatedAs(
      Type.Integer({
        minimum: 1,
        maximum: MAX_SAFE_INTEGER,
        description: 'The fence of the lease to release',
      }),
      Type.String({ pattern: '^[1-9][0-9]{0,15}$' }),
    ),
  },
  {
    additionalProperties: false,
  },
);
export type ReleaseQuery = Static<typeof ReleaseQuery>;

export const LeaseRecord = Type.Object({
  name: Type.String(),
  holder: Type.String(),
  fence: Type.Integer(),
  expiresAt: Time('When the lease ends unless renewed'),
});
