import { Type } from 'typebox';
import { LIMITS } from '../../http/limits.js';
import { Nullable } from '../../http/resource/fields.js';
import { VmStatus } from '../vms/vm-status.js';

/**
 * The agent API contract (DESIGN section 5, "Agent"): what `accountdb-agent` sends and gets.
 * Authenticated with `Authorization: Bearer adb_node_…` (the node's key).
 */

export const AgentConfig = Type.Object(
  {
    node_id: Type.String({ format: 'uuid' }),
    name: Type.String({ description: 'The Proxmox node name this agent syncs (PVE_NODE)' }),
    sync_mode: Type.Union([Type.Literal('all'), Type.Literal('whitelist')]),
    whitelist: Type.Array(Type.Integer(), { description: 'VMIDs to sync in whitelist mode' }),
    interval_s: Type.Integer({ description: 'Seconds between sync cycles' }),
    sync_requested_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], {
      description:
        'A "Sync now" the owner asked for and no sync has served yet: an agent that has not served this one runs a ' +
        'cycle at once and sends it back as sync_request',
    }),
  },
  {
    description:
      'What the agent should do; answered with an ETag (send If-None-Match to get 304 when unchanged)',
    examples: [
      {
        node_id: '0194c3a2-0000-7000-8000-0000000000aa',
        name: 'pve1',
        sync_mode: 'all',
        whitelist: [],
        interval_s: 60,
        sync_requested_at: null,
      },
    ],
  },
);

/**
 * One guest as the agent observed it. A field left out means "not known this cycle" and
 * keeps the stored value (e.g. IPs when the guest agent did not answer); null clears it.
 */
export const SyncVm = Type.Object(
  {
    vmid: Type.Integer({ minimum: 1, maximum: 999_999_999 }),
    type: Type.Union([Type.Literal('qemu'), Type.Literal('lxc')]),
    name: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
    status: VmStatus,
    template: Type.Optional(Type.Boolean()),
    lock: Type.Optional(
      Nullable(
        Type.String({ maxLength: 50, description: 'Proxmox lock: backup, migrate, suspended…' }),
      ),
    ),
    cpu_cores: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 100_000 }))),
    memory_mb: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 1e12 }))),
    disk_gb: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1e12 }))),
    cpu_usage: Type.Optional(
      Nullable(
        Type.Number({ minimum: 0, maximum: 1e6, description: 'Fraction of the allocated CPUs' }),
      ),
    ),
    mem_usage: Type.Optional(
      Nullable(Type.Integer({ minimum: 0, maximum: 1e15, description: 'Bytes in use' })),
    ),
    uptime_s: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 1e12 }))),
    ip_addresses: Type.Optional(Type.Array(Type.String({ maxLength: 64 }), { maxItems: 100 })),
    mac_addresses: Type.Optional(Type.Array(Type.String({ maxLength: 17 }), { maxItems: 64 })),
    smbios_uuid: Type.Optional(Nullable(Type.String({ minLength: 32, maxLength: 38 }))),
    tags: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
        maxItems: 50,
        description: 'Proxmox tags',
      }),
    ),
    description: Type.Optional(Nullable(Type.String({ maxLength: 8192 }))),
  },
  { additionalProperties: false },
);

export const SyncBody = Type.Object(
  {
    cycle_id: Type.String({
      minLength: 1,
      maxLength: 100,
      description: 'Unique per cycle: a retry with the same id and body gets the same answer',
    }),
    observed_at: Type.String({
      format: 'date-time',
      description: 'When the agent read Proxmox (agent clock; only orders snapshots)',
    }),
    agent_version: Type.String({ minLength: 1, maxLength: 50 }),
    pve_version: Type.Optional(Type.String({ maxLength: 50 })),
    complete: Type.Boolean({
      description:
        'true: vms is every guest of the node (missing ones become absent); false: only these guests',
    }),
    vms: Type.Array(SyncVm, { maxItems: LIMITS.sync.vms }),
    sync_request: Type.Optional(
      Type.String({
        format: 'date-time',
        description:
          "The config's sync_requested_at this cycle serves: the request is cleared (unless a newer one came since)",
      }),
    ),
    duration_ms: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: 86_400_000,
        description:
          "How long the cycle took to read Proxmox and build this body (shown as the node's last cycle duration)",
      }),
    ),
  },
  {
    additionalProperties: false,
    examples: [
      {
        cycle_id: '0194c3a2-1111-7000-8000-000000000001',
        observed_at: '2026-11-24T12:00:00.000Z',
        agent_version: '0.1.0',
        pve_version: '8.4.1',
        complete: true,
        vms: [
          {
            vmid: 101,
            type: 'qemu',
            name: 'farm-101',
            status: 'running',
            template: false,
            cpu_cores: 2,
            memory_mb: 4096,
            disk_gb: 32,
            ip_addresses: ['10.0.0.101'],
            mac_addresses: ['BC:24:11:5E:0A:01'],
            smbios_uuid: '4c4c4544-0042-3510-8052-b4c04f4e4d32',
            tags: ['farm'],
          },
        ],
      },
    ],
  },
);

export const SyncResult = Type.Object({
  created: Type.Integer({ description: 'Guests new to AccountDB' }),
  updated: Type.Integer({ description: 'Guests whose stored state changed' }),
  unchanged: Type.Integer(),
  absent: Type.Integer({
    description: 'Guests missing from this complete sync, now marked absent',
  }),
  returned: Type.Integer({ description: 'Guests marked absent before that are back' }),
  ignored: Type.Integer({
    description: 'Guests outside the whitelist (their VMIDs are kept as skipped_vmids)',
  }),
  stale: Type.Boolean({
    description: 'true: the snapshot is older than one already applied and changed nothing',
  }),
});

export const HeartbeatBody = Type.Object(
  {
    status: Type.Union([Type.Literal('ok'), Type.Literal('error')]),
    error: Type.Optional(
      Type.String({ maxLength: 2000, description: 'What went wrong (never a secret)' }),
    ),
    agent_version: Type.String({ minLength: 1, maxLength: 50 }),
    pve_version: Type.Optional(Type.String({ maxLength: 50 })),
  },
  {
    additionalProperties: false,
    examples: [
      {
        status: 'error',
        error: 'Proxmox answered 401: check PVE_TOKEN_ID/PVE_TOKEN_SECRET',
        agent_version: '0.1.0',
      },
    ],
  },
);
