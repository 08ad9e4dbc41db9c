import { Type } from 'typebox';
import { FreeJsonObject } from '../../http/free-json.js';
import { Notes, Nullable, Tags, Timestamp, UuidString } from '../../http/resource/fields.js';
import { OwnerRef } from '../../http/scope.js';
import { accountSharedFields } from '../grants/schemas.js';

export const ACCOUNT_STATUSES = ['active', 'locked', 'disabled', 'banned'] as const;
export type AccountStatus = (typeof ACCOUNT_STATUSES)[number];

/** Secret fields: stored only encrypted, never in a normal response (has_<field> instead). */
export const SECRET_STRING_FIELDS = [
  'password',
  'email_password',
  'vault_password',
  'totp_secret',
  'shared_secret',
  'identity_secret',
  'revocation_code',
] as const;
export const SECRET_FIELDS = [...SECRET_STRING_FIELDS, 'steam_guard'] as const;
export type SecretField = (typeof SECRET_FIELDS)[number];

export const Status = Type.Union(
  [
    Type.Literal('active'),
    Type.Literal('locked'),
    Type.Literal('disabled'),
    Type.Literal('banned'),
  ],
  {
    description:
      'active | locked (until locked_until, then active again by itself) | disabled | banned',
  },
);

const secretDescriptions: Record<(typeof SECRET_STRING_FIELDS)[number], string> = {
  password: 'Account password',
  email_password: "Password of the account's e-mail box",
  vault_password: 'Password of the recovery/vault mailbox',
  totp_secret: 'Standard TOTP secret: base32, or an otpauth://totp/ URI',
  shared_secret:
    'Steam Guard shared_secret, 20 bytes as standard or URL-safe base64 (padded or not) or 40 hex ' +
    'digits (hex wins when the value is exactly 40 hex digits, as in steam-totp); stored as standard ' +
    'padded base64. Makes Steam 5-character codes',
  identity_secret:
    'Steam Guard identity_secret, for trade confirmations: the same 20-byte forms as shared_secret, ' +
    'stored as standard padded base64',
  revocation_code: 'Steam Guard revocation code (R12345)',
};

const secretWrites = {
  ...Object.fromEntries(
    SECRET_STRING_FIELDS.map((f) => [
      f,
      Type.Optional(
        Nullable(
          Type.String({
            minLength: 1,
            maxLength: 4096,
            description: `${secretDescriptions[f]}. Write-only; null removes it.`,
          }),
        ),
      ),
    ]),
  ),
  steam_guard: Type.Optional(
    Nullable(
      FreeJsonObject({
        maxProperties: 50,
        description:
          'Other Steam Guard data of a .maFile (device_id, serial_number, uri, token_gid, secret_1, session…). Write-only',
      }),
    ),
  ),
};

const common = {
  external_id: Type.Optional(
    Nullable(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: "The account's id at its service (e.g. SteamID64); unique per owner",
        examples: ['76561198000000000'],
      }),
    ),
  ),
  service: Type.Optional(
    Type.String({
      minLength: 1,
      maxLength: 50,
      description: 'Service the account belongs to',
      examples: ['steam'],
    }),
  ),
  email: Type.Optional(
    Nullable(Type.String({ maxLength: 254, description: 'E-mail address of the account' })),
  ),
  status: Type.Optional(Status),
  locked_until: Type.Optional(
    Nullable(
      Type.String({
        format: 'date-time',
        description: 'With status locked: when the lock lapses (null: until changed)',
      }),
    ),
  ),
  status_reason: Type.Optional(
    Nullable(Type.String({ maxLength: 500, description: 'Why the status is what it is' })),
  ),
  tags: Type.Optional(Tags),
  notes: Type.Optional(Nullable(Notes)),
  created_at: Type.Optional(
    Type.String({
      format: 'date-time',
      description:
        'When the account was created, e.g. its creation time in the earlier system it comes from ' +
        '(default: now). Not in the future (5 minutes of clock skew allowed).',
      examples: ['2021-05-03T00:00:00.000Z'],
    }),
  ),
  attributes: Type.Optional(
    FreeJsonObject({ maxProperties: 100, description: 'Service-specific extras (not secret)' }),
  ),
  ...secretWrites,
};

export const CreateAccount = Type.Object(
  {
    username: Type.String({
      minLength: 1,
      maxLength: 200,
      description: 'Login name at the service',
      examples: ['gaben_fan_42'],
    }),
    ...common,
  },
  {
    additionalProperties: false,
    examples: [
      {
        external_id: '76561198000000000',
        service: 'steam',
        username: 'gaben_fan_42',
        email: 'fan42@example.com',
        password: 'hunter2 but longer',
        email_password: 'mailbox passphrase',
        shared_secret: 'cnOgv/KdpLoP6Nbh0GMkXkPXALQ=',
        identity_secret: 'aWRlbnRpdHktc2VjcmV0LTAwMDE=',
        revocation_code: 'R12345',
        tags: ['prime'],
      },
      {
        service: 'example-mail',
        username: 'alice.smith',
        password: 'another passphrase',
        totp_secret: 'JBSWY3DPEHPK3PXP',
        status: 'locked',
        locked_until: '2026-12-01T00:00:00.000Z',
        status_reason: 'Too many login attempts',
        attributes: { region: 'eu' },
      },
    ],
  },
);

export const UpdateAccount = Type.Object(
  { username: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), ...common },
  {
    additionalProperties: false,
    minProperties: 1,
    examples: [
      { status: 'banned', status_reason: 'VAC ban' },
      { password: 'a new passphrase', tags: ['prime', 'eu'] },
    ],
  },
);

export const Account = Type.Object(
  {
    id: UuidString,
    owner_id: UuidString,
    owner: Type.Optional(OwnerRef),
    ...accountSharedFields(),
    external_id: Nullable(Type.String()),
    service: Type.String(),
    username: Type.String(),
    email: Nullable(Type.String()),
    status: Status,
    locked_until: Nullable(Timestamp),
    status_reason: Nullable(Type.String()),
    tags: Type.Array(Type.String()),
    notes: Nullable(Type.String()),
    attributes: Type.Object({}, { additionalProperties: true }),
    has_password: Type.Boolean(),
    has_email_password: Type.Boolean(),
    has_vault_password: Type.Boolean(),
    has_totp_secret: Type.Boolean(),
    has_shared_secret: Type.Boolean(),
    has_identity_secret: Type.Boolean(),
    has_revocation_code: Type.Boolean(),
    has_steam_guard: Type.Boolean(),
    has_totp: Type.Boolean({
      description: 'A 2FA code can be made (totp_secret or shared_secret)',
    }),
    claimed_by: Nullable(Type.String({ description: 'Who holds the lease (while it runs)' })),
    claimed_until: Nullable(Timestamp),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  {
    $id: 'Account',
    description:
      'An account at an online service. Secrets are never included: has_<secret> tells which are stored.',
    examples: [
      {
        id: '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f',
        owner_id: '0194c3a2-0000-7000-8000-000000000001',
        external_id: '76561198000000000',
        service: 'steam',
        username: 'gaben_fan_42',
        email: 'fan42@example.com',
        status: 'active',
        locked_until: null,
        status_reason: null,
        tags: ['prime'],
        notes: null,
        attributes: {},
        has_password: true,
        has_email_password: true,
        has_vault_password: false,
        has_totp_secret: false,
        has_shared_secret: true,
        has_identity_secret: true,
        has_revocation_code: true,
        has_steam_guard: true,
        has_totp: true,
        claimed_by: null,
        claimed_until: null,
        created_at: '2026-11-24T12:00:00.000Z',
        updated_at: '2026-11-24T12:00:00.000Z',
      },
    ],
  },
);

const SecretValue = Nullable(Type.String());
export const AccountSecrets = Type.Object(
  {
    password: SecretValue,
    email_password: SecretValue,
    vault_password: SecretValue,
    totp_secret: SecretValue,
    shared_secret: SecretValue,
    identity_secret: SecretValue,
    revocation_code: SecretValue,
    steam_guard: Nullable(Type.Object({}, { additionalProperties: true })),
  },
  {
    description: 'The decrypted secrets of one account',
    examples: [
      {
        password: 'hunter2 but longer',
        email_password: 'mailbox passphrase',
        vault_password: null,
        totp_secret: null,
        shared_secret: 'cnOgv/KdpLoP6Nbh0GMkXkPXALQ=',
        identity_secret: 'aWRlbnRpdHktc2VjcmV0LTAwMDE=',
        revocation_code: 'R12345',
        steam_guard: { device_id: 'android:0d9f1c2e-5b1a-4c3e-9a7b-2f6e8d0c4b1a' },
      },
    ],
  },
);
