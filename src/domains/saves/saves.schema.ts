/** The save slots API's wire shapes (docs/api.md#saves). Bodies are closed: unknown fields are a 400. */
import { type Static, Type } from '@sinclair/typebox';
import { Id, Time, Version } from '../../http-kit/schemas.js';
import { validatedAs } from '../../http-kit/validated-schema.js';

export const UserParams = Type.Object({ user: Id('The player id') });
export type UserParams = Static<typeof UserParams>;

/**
 * The path of one slot, documented as an integer from 1 to `slots` (`SAVEPOINT_SAVE_SLOTS`).
 * `slot` is taken as text and checked by the module, so that anything other than such an integer
 * answers `400 OUT_OF_BOUNDS` as the contract says, never a generic 400.
 */
export const SlotParams = (slots: number) =>
  Type.Object({
    user: Id('The player id'),
    slot: validatedAs(
      Type.Integer({
        minimum: 1,
        maximum: slots,
        description: `The slot number, from 1 to SAVEPOINT_SAVE_SLOTS (here ${slots}); else 400 OUT_OF_BOUNDS`,
      }),
      Type.String(),
    ),
  });
export type SlotParams = Static<ReturnType<typeof SlotParams>>;

export const PutSaveBody = Type.Object(
  {
    state: Type.Object(
      {},
      { additionalProperties: true, description: 'The saved game state; replaces the slot' },
    ),
    expectedVersion: Type.Optional(Version('Write only at this version (409 VERSION_CONFLICT otherwise)')),
  },
  { additionalProperties: false },
);
export type PutSaveBody = Static<typeof PutSaveBody>;

export const DeleteSaveQuery = Type.Object(
  { expectedVersion: Type.Optional(Version('Delete only at this version (409 otherwise)')) },
  { additionalProperties: false },
);
export type DeleteSaveQuery = Static<typeof DeleteSaveQuery>;

export const SaveRecord = Type.Object({
  user: Type.String(),
  slot: Type.Integer({ minimum: 1 }),
  state: Type.Object({}, { additionalProperties: true }),
  version: Version(),
  createdAt: Time('When the slot was first written'),
  updatedAt: Time('When the slot last changed'),
});

export const SlotList = Type.Object({
  slots: Type.Array(
    Type.Object({ slot: Type.Integer({ minimum: 1 }), version: Version(), updatedAt: Time('Last change') }),
    { description: 'Occupied slots only, ascending' },
  ),
  maxSlots: Type.Integer({ description: 'Slots per player (SAVEPOINT_SAVE_SLOTS)' }),
});
