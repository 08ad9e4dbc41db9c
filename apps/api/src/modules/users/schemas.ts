import { type Static, Type } from 'typebox';
import { PASSWORD_MAX_LENGTH, PASSWORD_MIN_LENGTH } from '../../crypto/passwords.js';

export const Username = Type.String({
  minLength: 3,
  maxLength: 64,
  pattern: '^[A-Za-z0-9][A-Za-z0-9._-]*$',
  description: 'Login name: 3-64 letters, digits, dot, dash or underscore; unique ignoring case',
  examples: ['alice'],
});

export const Email = Type.String({
  minLength: 3,
  maxLength: 254,
  format: 'email',
  description: 'E-mail address; unique ignoring case',
  examples: ['alice@example.com'],
});

export const Password = Type.String({
  minLength: PASSWORD_MIN_LENGTH,
  maxLength: PASSWORD_MAX_LENGTH,
  description: `Password or passphrase, ${PASSWORD_MIN_LENGTH}-${PASSWORD_MAX_LENGTH} characters, no composition rules`,
  examples: ['correct horse battery staple'],
});

export const Role = Type.Union([Type.Literal('admin'), Type.Literal('user')], {
  description: "admin: manages users and sees every user's data; user: sees only their own",
});

export const Uuid = Type.String({
  format: 'uuid',
  description: 'Object id (UUID)',
  examples: ['0194c3a2-0000-7000-8000-000000000001'],
});

/** One user as the API shows it, for OpenAPI examples. */
export const USER_EXAMPLE = {
  id: '0194c3a2-0000-7000-8000-000000000001',
  username: 'alice',
  email: 'alice@example.com',
  role: 'user',
  is_active: true,
  failed_login_count: 0,
  locked_until: null,
  last_login_at: '2026-11-24T12:00:00.000Z',
  created_at: '2026-11-20T08:00:00.000Z',
  updated_at: '2026-11-24T12:00:00.000Z',
};

export const User = Type.Object(
  {
    id: Uuid,
    username: Type.String(),
    email: Type.String(),
    role: Role,
    is_active: Type.Boolean({
      description: 'A deactivated user cannot log in; open sessions end at once',
    }),
    failed_login_count: Type.Integer({
      description: 'Consecutive failed logins since the last success',
    }),
    locked_until: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description: 'Logins are refused until then after repeated failures',
    }),
    last_login_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'User',
    description: 'A user of this AccountDB instance',
    examples: [USER_EXAMPLE],
  },
);
export type User = Static<typeof User>;

export const UserRef = Type.Ref('User');

export const CreateUserBody = Type.Object(
  {
    username: Username,
    email: Email,
    password: Password,
    role: Type.Optional(Role),
  },
  {
    additionalProperties: false,
    examples: [
      {
        username: 'bob',
        email: 'bob@example.com',
        password: 'another long passphrase',
        role: 'user',
      },
    ],
  },
);

export const UpdateUserBody = Type.Object(
  {
    username: Type.Optional(Username),
    email: Type.Optional(Email),
    role: Type.Optional(Role),
    is_active: Type.Optional(
      Type.Boolean({ description: 'false deactivates: every session of the user ends at once' }),
    ),
    password: Type.Optional(Password),
    unlock: Type.Optional(Type.Literal(true, { description: 'Clears a login lockout' })),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    examples: [{ is_active: false }, { role: 'admin' }, { unlock: true }],
  },
);

export const UserList = Type.Object(
  {
    items: Type.Array(UserRef),
    next_cursor: Type.Union([Type.String(), Type.Null()]),
    total: Type.Integer(),
  },
  {
    examples: [
      {
        items: [USER_EXAMPLE],
        next_cursor: null,
        total: 1,
      },
    ],
  },
);
