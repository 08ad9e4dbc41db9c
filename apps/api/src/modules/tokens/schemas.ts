import { Type } from 'typebox';
import { Uuid } from '../users/schemas.js';

const Scope = Type.Union([Type.Literal('read'), Type.Literal('write')]);

export const ApiToken = Type.Object(
  {
    id: Uuid,
    name: Type.String(),
    prefix: Type.String({ description: 'The first characters of the token, to recognise it' }),
    scopes: Type.Array(Scope),
    expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    last_used_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    last_used_ip: Type.Union([Type.String(), Type.Null()]),
    created_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'ApiToken', description: 'A personal access token (never the token itself)' },
);

export const CreateTokenBody = Type.Object(
  {
    name: Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'What the token is for',
      examples: ['claim worker'],
    }),
    scopes: Type.Array(Scope, {
      minItems: 1,
      maxItems: 2,
      uniqueItems: true,
      description: 'read: GET requests; write: every method (implies read)',
      examples: [['read']],
    }),
    expires_in_days: Type.Optional(
      Type.Integer({
        minimum: 1,
        maximum: 3650,
        description: 'Omit for a token that does not expire',
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [{ name: 'claim worker', scopes: ['read', 'write'], expires_in_days: 90 }],
  },
);

export const CreatedToken = Type.Object({
  ...ApiToken.properties,
  token: Type.String({
    description: 'The token (adb_pat_…). Shown only in this response; store it now.',
  }),
});

export const TokenList = Type.Object(
  { items: Type.Array(Type.Ref('ApiToken')) },
  {
    examples: [
      {
        items: [
          {
            id: '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f',
            name: 'claim worker',
            prefix: 'adb_pat_fym3trwmek31',
            scopes: ['read', 'write'],
            expires_at: '2027-02-22T12:00:00.000Z',
            last_used_at: '2026-11-24T12:00:00.000Z',
            last_used_ip: '192.0.2.10',
            created_at: '2026-11-24T11:00:00.000Z',
          },
        ],
      },
    ],
  },
);
