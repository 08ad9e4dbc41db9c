import { Type } from 'typebox';
import { Notes, Nullable, Tags, Timestamp, UuidString } from '../../http/resource/fields.js';
import { OwnerRef } from '../../http/scope.js';
import { NO_CONTROL_CHARACTERS } from '../../http/text-patterns.js';
import { sharedFields } from '../grants/schemas.js';

export const NodeStatus = Type.Union(
  [
    Type.Literal('pending'),
    Type.Literal('online'),
    Type.Literal('stale'),
    Type.Literal('error'),
    Type.Literal('offline'),
  ],
  {
    description:
      'pending: the agent never reported; online; stale: no report for 3 sync intervals; offline: for 10; ' +
      "error: the agent reports a problem (judged by the server's clock)",
  },
);

const Vmid = Type.Integer({ minimum: 1, maximum: 999_999_999 });

const writable = {
  hostname: Type.Optional(
    Nullable(
      Type.String({ maxLength: 253, description: 'Host name or address of the Proxmox node' }),
    ),
  ),
  port: Type.Optional(
    Type.Integer({ minimum: 1, maximum: 65_535, description: 'Proxmox API port (8006)' }),
  ),
  cluster: Type.Optional(Nullable(Type.String({ maxLength: 100 }))),
  sync_mode: Type.Optional(
    Type.Union([Type.Literal('all'), Type.Literal('whitelist')], {
      description: 'all: sync every guest; whitelist: only the listed VMIDs',
    }),
  ),
  sync_interval_s: Type.Optional(
    Type.Integer({ minimum: 10, maximum: 3600, description: 'Seconds between agent syncs' }),
  ),
  whitelist: Type.Optional(
    Type.Array(Vmid, { maxItems: 100_000, description: 'VMIDs synced in whitelist mode' }),
  ),
  tags: Type.Optional(Tags),
  notes: Type.Optional(Nullable(Notes)),
};

/** The node's name: it goes into the agent's configuration file, so one line, no control character. */
const NodeName = Type.String({
  minLength: 1,
  maxLength: 100,
  pattern: NO_CONTROL_CHARACTERS,
  description:
    'Proxmox node name (as in the Proxmox UI); no control characters (it is written into the agent configuration)',
  examples: ['pve1'],
});

export const CreateNode = Type.Object(
  {
    name: NodeName,
    ...writable,
  },
  {
    additionalProperties: false,
    examples: [
      { name: 'pve1', hostname: 'pve1.lan', tags: ['rack-a'] },
      {
        name: 'pve2',
        hostname: '10.0.0.12',
        cluster: 'homelab',
        sync_mode: 'whitelist',
        whitelist: [101, 102, 105],
        sync_interval_s: 30,
      },
    ],
  },
);
export const UpdateNode = Type.Object(
  { name: Type.Optional(NodeName), ...writable },
  {
    additionalProperties: false,
    minProperties: 1,
    examples: [{ sync_mode: 'all' }, { hostname: 'pve1.example.net', port: 8006 }],
  },
);

export const ProxmoxNode = Type.Object(
  {
    id: UuidString,
    owner_id: UuidString,
    owner: Type.Optional(OwnerRef),
    ...sharedFields(),
    name: Type.String(),
    hostname: Nullable(Type.String()),
    port: Type.Integer(),
    cluster: Nullable(Type.String()),
    status: NodeStatus,
    last_seen_at: Nullable(Timestamp),
    last_sync_at: Nullable(Timestamp),
    last_sync_stats: Nullable(
      Type.Object(
        {},
        {
          additionalProperties: true,
          description:
            "The last applied sync: created, updated, unchanged, absent, returned, ignored, guests, at, and duration_ms (how long the agent's cycle took to read Proxmox, when the agent reports it)",
        },
      ),
    ),
    sync_requested_at: Nullable(
      Type.String({
        format: 'date-time',
        description:
          'A pending "Sync now" (POST /proxmox-nodes/{id}/sync-now); cleared by the sync that serves it',
      }),
    ),
    last_error: Nullable(Type.String()),
    agent_version: Nullable(Type.String()),
    pve_version: Nullable(Type.String()),
    api_key_prefix: Type.String({
      description: 'First characters of the agent key, to recognise it',
    }),
    api_key_rotated_at: Nullable(Timestamp),
    sync_mode: Type.Union([Type.Literal('all'), Type.Literal('whitelist')]),
    sync_interval_s: Type.Integer(),
    whitelist: Type.Array(Type.Integer()),
    skipped_vmids: Type.Array(Type.Integer(), {
      description: 'VMIDs the agent saw but did not sync (whitelist mode)',
    }),
    tags: Type.Array(Type.String()),
    notes: Nullable(Type.String()),
    created_at: Timestamp,
    updated_at: Timestamp,
    api_key: Type.Optional(
      Type.String({
        description: 'The agent key (adb_node_…): only in the create and rotate-key answers',
      }),
    ),
    agent_config: Type.Optional(
      Type.String({
        description:
          'Ready-to-paste agent environment file: only in the create and rotate-key answers',
      }),
    ),
  },
  {
    $id: 'ProxmoxNode',
    description: 'A Proxmox VE node whose guests an agent keeps in sync',
    examples: [
      {
        id: '0194c3a2-0000-7000-8000-0000000000aa',
        owner_id: '0194c3a2-0000-7000-8000-000000000001',
        name: 'pve1',
        hostname: 'pve1.lan',
        port: 8006,
        cluster: null,
        status: 'online',
        last_seen_at: '2026-11-24T12:00:00.000Z',
        last_sync_at: '2026-11-24T12:00:00.000Z',
        last_sync_stats: { created: 0, updated: 3, unchanged: 97, absent: 0, ignored: 0 },
        sync_requested_at: null,
        last_error: null,
        agent_version: '0.1.0',
        pve_version: '8.4.1',
        api_key_prefix: 'adb_node_Ab12Cd34Ef56',
        api_key_rotated_at: null,
        sync_mode: 'all',
        sync_interval_s: 60,
        whitelist: [],
        skipped_vmids: [],
        tags: [],
        notes: null,
        created_at: '2026-11-24T12:00:00.000Z',
        updated_at: '2026-11-24T12:00:00.000Z',
      },
    ],
  },
);
