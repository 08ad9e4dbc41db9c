import { Type } from 'typebox';
import { Notes, Nullable, Tags, Timestamp, UuidString } from '../../http/resource/fields.js';
import { OwnerRef } from '../../http/scope.js';

export const CardStatus = Type.Union(
  [
    Type.Literal('available'),
    Type.Literal('claimed'),
    Type.Literal('redeemed'),
    Type.Literal('failed'),
    Type.Literal('disabled'),
  ],
  {
    description:
      'available → claimed (a lease) → redeemed or failed; a lapsed lease is available again; disabled: kept aside',
  },
);

const Code = Type.String({
  minLength: 1,
  maxLength: 500,
  description: 'Card code, stored encrypted',
  examples: ['AAAA-BBBB-CCCC-DDDD'],
});
const Value = Type.Number({ minimum: 0, maximum: 999_999_999_999, description: 'Face value' });
const Currency = Type.String({
  pattern: '^[A-Za-z]{3}$',
  description: 'ISO 4217 code',
  examples: ['EUR'],
});

const common = {
  status: Type.Optional(
    Type.Union([Type.Literal('available'), Type.Literal('disabled')], {
      description: 'New cards are available unless disabled',
    }),
  ),
  value: Type.Optional(Nullable(Value)),
  currency: Type.Optional(Nullable(Currency)),
  expires_at: Type.Optional(Nullable(Type.String({ format: 'date-time' }))),
  account_id: Type.Optional(
    Nullable(Type.String({ format: 'uuid', description: 'Account the card was redeemed onto' })),
  ),
  tags: Type.Optional(Tags),
  notes: Type.Optional(Nullable(Notes)),
};

export const CreateCard = Type.Object(
  { code1: Code, code2: Type.Optional(Nullable(Code)), ...common },
  {
    additionalProperties: false,
    examples: [
      { code1: 'AAAA-BBBB-CCCC-DDDD', value: 20, currency: 'EUR', tags: ['batch-7'] },
      {
        code1: 'X9Q2-7TZL-M4KD',
        code2: '4711',
        value: 50,
        currency: 'USD',
        expires_at: '2027-06-30T23:59:59.000Z',
      },
    ],
  },
);
export const UpdateCard = Type.Object(
  {
    code1: Type.Optional(Code),
    code2: Type.Optional(Nullable(Code)),
    ...common,
    status: Type.Optional(CardStatus),
    failure_reason: Type.Optional(Nullable(Type.String({ maxLength: 500 }))),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    examples: [{ status: 'disabled', notes: 'Kept for the spring sale' }, { tags: ['batch-8'] }],
  },
);

export const Card = Type.Object(
  {
    id: UuidString,
    owner_id: UuidString,
    owner: Type.Optional(OwnerRef),
    code_hint: Type.String({ description: 'The code masked but for its last characters' }),
    has_code2: Type.Boolean(),
    code1: Type.Optional(
      Type.String({ description: 'Only in GET /cards/{id} (audited) and claims' }),
    ),
    code2: Type.Optional(Nullable(Type.String())),
    status: CardStatus,
    failure_reason: Nullable(Type.String()),
    claimed_by: Nullable(Type.String()),
    claimed_until: Nullable(Timestamp),
    redeemed_at: Nullable(Timestamp),
    account_id: Nullable(UuidString),
    value: Nullable(Type.Number()),
    currency: Nullable(Type.String()),
    expires_at: Nullable(Timestamp),
    tags: Type.Array(Type.String()),
    notes: Nullable(Type.String()),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  {
    $id: 'Card',
    description:
      'A redeemable card (gift or prepaid code). Codes are encrypted; lists show them masked.',
    examples: [
      {
        id: '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f',
        owner_id: '0194c3a2-0000-7000-8000-000000000001',
        code_hint: '••••••••DDDD',
        has_code2: false,
        status: 'available',
        failure_reason: null,
        claimed_by: null,
        claimed_until: null,
        redeemed_at: null,
        account_id: null,
        value: 20,
        currency: 'EUR',
        expires_at: null,
        tags: ['batch-7'],
        notes: null,
        created_at: '2026-11-24T12:00:00.000Z',
        updated_at: '2026-11-24T12:00:00.000Z',
      },
    ],
  },
);
