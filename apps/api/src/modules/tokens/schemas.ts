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
  { additionalProperties: false },
);

export const CreatedToken = Type.Object({
  ...ApiToken.properties,
  token: Type.String({
    description: 'The token (adb_pat_…). Shown only in this response; store it now.',
  }),
});

export const TokenList = Type.Object({ items: Type.Array(Type.Ref('ApiToken')) });
