import { Type } from 'typebox';

/** What may be shared (migration 0020). */
export const GrantObjectType = Type.Union(
  [Type.Literal('proxmox_node'), Type.Literal('vm'), Type.Literal('account')],
  { description: 'proxmox_node (the node and every VM on it), vm or account' },
);

export const Permission = Type.Union([Type.Literal('read'), Type.Literal('write')], {
  description:
    'read: the grantee sees the object; write: the grantee may also change it (never delete it, move it to another owner or share it again)',
});

const UserRef = Type.Object({
  id: Type.String({ format: 'uuid' }),
  username: Type.String(),
});

/** Who shared an object, on every list item and detail of an object shared with you. */
export const SharedByRef = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    username: Type.String(),
  },
  {
    description:
      'Set on an object another user shared with you (shown "shared by <username>"): its owner. Absent on your own objects.',
  },
);

const SharePermission = Type.Union([Type.Literal('read'), Type.Literal('write')], {
  description:
    "On an object shared with you: what the share allows (for a VM, the wider of its own grant and its node's).",
});

/** The fields an object shared with the caller carries (VMs, Proxmox nodes). */
export const sharedFields = () => ({
  shared_by: Type.Optional(SharedByRef),
  permission: Type.Optional(SharePermission),
});

/** The fields an account shared with the caller carries. */
export const accountSharedFields = () => ({
  ...sharedFields(),
  secrets_shared: Type.Optional(
    Type.Boolean({
      description:
        'On an account shared with you: whether the share lets you read its secrets (GET /accounts/{id}/secrets, /totp, export with include_secrets).',
    }),
  ),
});

export const Grant = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    object_type: GrantObjectType,
    object_id: Type.String({ format: 'uuid' }),
    object_name: Type.Union([Type.String(), Type.Null()], {
      description: 'The name of the object (account username, VM name, node name) when known',
    }),
    owner: UserRef,
    grantee: UserRef,
    permission: Permission,
    secrets: Type.Boolean({
      description:
        'Accounts only: whether the grantee may read the secrets (always false otherwise)',
    }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  {
    $id: 'Grant',
    description: 'A share of one object with one other user',
    examples: [
      {
        id: '0194c3a2-0000-7000-8000-0000000000f1',
        object_type: 'vm',
        object_id: '0194c3a2-0000-7000-8000-0000000000b1',
        object_name: 'farm-01',
        owner: { id: '0194c3a2-0000-7000-8000-000000000001', username: 'alice' },
        grantee: { id: '0194c3a2-0000-7000-8000-000000000002', username: 'bob' },
        permission: 'read',
        secrets: false,
        created_at: '2026-12-06T12:00:00.000Z',
        updated_at: '2026-12-06T12:00:00.000Z',
      },
    ],
  },
);

export const CreateGrantBody = Type.Object(
  {
    object_type: GrantObjectType,
    object_id: Type.String({ format: 'uuid', description: 'One of your own objects' }),
    grantee: Type.String({
      minLength: 3,
      maxLength: 64,
      pattern: '^[^\\x00-\\x1F\\x7F]*$',
      description: 'The username of the user to share with (case-insensitive; an active user)',
    }),
    permission: Type.Optional(Permission),
    secrets: Type.Optional(
      Type.Boolean({
        description:
          'Accounts only: the grantee may read the password and 2FA secrets and get live codes (default false)',
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        object_type: 'proxmox_node',
        object_id: '0194c3a2-0000-7000-8000-0000000000aa',
        grantee: 'bob',
      },
      {
        object_type: 'account',
        object_id: '0194c3a2-0000-7000-8000-0000000000c1',
        grantee: 'bob',
        permission: 'write',
        secrets: true,
      },
    ],
  },
);

export const UpdateGrantBody = Type.Object(
  {
    permission: Type.Optional(Permission),
    secrets: Type.Optional(Type.Boolean({ description: 'Accounts only' })),
  },
  { additionalProperties: false, minProperties: 1, examples: [{ permission: 'write' }] },
);

export const GrantListQuery = Type.Object(
  {
    direction: Type.Union([Type.Literal('given'), Type.Literal('received')], {
      default: 'given',
      description: 'given: the shares you made; received: the shares made to you',
    }),
    object_type: Type.Optional(GrantObjectType),
    object_id: Type.Optional(
      Type.String({ format: 'uuid', description: 'Only the grants of this object' }),
    ),
    limit: Type.Integer({
      minimum: 1,
      maximum: 500,
      default: 100,
      description: 'At most this many, newest first',
    }),
  },
  { additionalProperties: false },
);

export const GrantList = Type.Object(
  { items: Type.Array(Type.Ref('Grant'), { description: 'Newest first' }) },
  { examples: [{ items: (Grant as { examples?: unknown[] }).examples ?? [] }] },
);
