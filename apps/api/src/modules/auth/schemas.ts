import { Type } from 'typebox';
import { PASSWORD_MAX_LENGTH } from '../../crypto/passwords.js';
import { Email, Password, USER_EXAMPLE, Username, UserRef } from '../users/schemas.js';

export const SetupStatus = Type.Object(
  {
    needed: Type.Boolean({ description: 'true until the first admin exists' }),
    registration_open: Type.Boolean({ description: 'Whether POST /auth/register is available' }),
  },
  { examples: [{ needed: true, registration_open: false }] },
);

export const NewUserBody = Type.Object(
  { username: Username, email: Email, password: Password },
  {
    additionalProperties: false,
    examples: [
      { username: 'admin', email: 'admin@example.com', password: 'correct horse battery staple' },
    ],
  },
);

export const LoginBody = Type.Object(
  {
    username: Type.String({
      minLength: 1,
      maxLength: 254,
      description: 'Username or e-mail address',
      examples: ['alice'],
    }),
    // Only the length is capped here: a login never tells which rule a password breaks.
    password: Type.String({
      minLength: 1,
      maxLength: PASSWORD_MAX_LENGTH,
      examples: ['correct horse battery staple'],
    }),
  },
  {
    additionalProperties: false,
    examples: [{ username: 'alice', password: 'correct horse battery staple' }],
  },
);

export const TokenPair = Type.Object({
  access_token: Type.String({
    description: 'JWT for Authorization: Bearer; valid for expires_in seconds',
  }),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer({ description: 'Seconds until the access token expires' }),
  refresh_token: Type.String({
    description: 'Opaque, single-use token for POST /auth/refresh (also set as an HttpOnly cookie)',
  }),
  refresh_expires_at: Type.String({ format: 'date-time' }),
});

export const LoginResponse = Type.Object({ ...TokenPair.properties, user: UserRef });

export const RefreshBody = Type.Object(
  {
    refresh_token: Type.Optional(
      Type.String({
        maxLength: 200,
        description: 'Omit to use the refresh cookie (then X-AccountDB-CSRF: 1 is required)',
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [{ refresh_token: 'adb_rt_3q2-7wEjnKx0V5tLh9Yb1cRzA8uMdFpGsXoQiNkTeJm' }, {}],
  },
);

export const PasswordChangeBody = Type.Object(
  {
    current_password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
    new_password: Password,
  },
  {
    additionalProperties: false,
    examples: [
      {
        current_password: 'correct horse battery staple',
        new_password: 'an even longer passphrase',
      },
    ],
  },
);

export const MeResponse = Type.Object(
  {
    user: UserRef,
    auth: Type.Object({
      via: Type.Union([Type.Literal('session'), Type.Literal('token')], {
        description: 'session: logged in with a password; token: a personal access token',
      }),
      scopes: Type.Array(Type.Union([Type.Literal('read'), Type.Literal('write')])),
      session_id: Type.Optional(Type.String()),
      token_id: Type.Optional(Type.String()),
    }),
  },
  {
    examples: [
      {
        user: USER_EXAMPLE,
        auth: {
          via: 'token',
          scopes: ['read'],
          token_id: '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f',
        },
      },
    ],
  },
);
