import { Type } from 'typebox';
import { PASSWORD_MAX_LENGTH } from '../../crypto/passwords.js';
import { Email, Password, Username, UserRef } from '../users/schemas.js';

export const SetupStatus = Type.Object({
  needed: Type.Boolean({ description: 'true until the first admin exists' }),
  registration_open: Type.Boolean({ description: 'Whether POST /auth/register is available' }),
});

export const NewUserBody = Type.Object(
  { username: Username, email: Email, password: Password },
  { additionalProperties: false },
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
  { additionalProperties: false },
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
  { additionalProperties: false },
);

export const PasswordChangeBody = Type.Object(
  {
    current_password: Type.String({ minLength: 1, maxLength: PASSWORD_MAX_LENGTH }),
    new_password: Password,
  },
  { additionalProperties: false },
);

export const MeResponse = Type.Object({
  user: UserRef,
  auth: Type.Object({
    via: Type.Union([Type.Literal('session'), Type.Literal('token')], {
      description: 'session: logged in with a password; token: a personal access token',
    }),
    scopes: Type.Array(Type.Union([Type.Literal('read'), Type.Literal('write')])),
    session_id: Type.Optional(Type.String()),
    token_id: Type.Optional(Type.String()),
  }),
});
