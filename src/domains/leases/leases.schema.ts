import { type Static, Type } from '@sinclair/typebox';
import { Duration, Id, Time } from '../../http/schemas.js';

export const LeaseParams = Type.Object(
  { name: Id('The lease name, e.g. game:42') },
  { additionalProperties: false },
);
export type LeaseParams = Static<typeof LeaseParams>;

const Holder = Type.String({ minLength: 1, maxLength: 200, description: 'Who holds or wants the lease' });
const Fence = Type.Integer({ minimum: 1, description: 'Increases every time the lease changes hands' });

export const AcquireBody = Type.Object(
  {
    holder: Holder,
    ttl: Type.Optional(Duration('How long the lease lasts unless renewed; default 5s, at most 60s')),
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
    ttl: Type.Optional(Duration('The new lease duration; default 5s, at most 60s')),
  },
  { additionalProperties: false },
);
export type RenewBody = Static<typeof RenewBody>;

export const ReleaseQuery = Type.Object(
  { holder: Holder, fence: Type.String({ pattern: '^[1-9][0-9]{0,15}$' }) },
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
