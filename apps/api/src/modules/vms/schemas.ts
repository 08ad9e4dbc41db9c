import { Type } from 'typebox';
import { Notes, Nullable, Tags, Timestamp, UuidString } from '../../http/resource/fields.js';
import { OwnerRef } from '../../http/scope.js';
import { sharedFields } from '../grants/schemas.js';
import { VmStatus } from './vm-status.js';

export { VmStatus };

export const VmType = Type.Union([Type.Literal('qemu'), Type.Literal('lxc')]);

const writable = {
  node_id: Type.Optional(
    Nullable(Type.String({ format: 'uuid', description: 'Proxmox node the VM runs on' })),
  ),
  vmid: Type.Optional(
    Nullable(
      Type.Integer({
        minimum: 1,
        maximum: 999_999_999,
        description: 'Proxmox VMID (unique per node)',
      }),
    ),
  ),
  type: Type.Optional(VmType),
  name: Type.Optional(Nullable(Type.String({ maxLength: 200 }))),
  status: Type.Optional(VmStatus),
  template: Type.Optional(Type.Boolean()),
  cpu_cores: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 100_000 }))),
  memory_mb: Type.Optional(Nullable(Type.Integer({ minimum: 0, maximum: 1e12 }))),
  disk_gb: Type.Optional(Nullable(Type.Number({ minimum: 0, maximum: 1e12 }))),
  ip_addresses: Type.Optional(
    Type.Array(Type.String({ maxLength: 64 }), {
      maxItems: 100,
      description: 'IPv4/IPv6 addresses',
    }),
  ),
  mac_addresses: Type.Optional(
    Type.Array(Type.String({ maxLength: 17 }), {
      maxItems: 64,
      description: 'MACs, stored as AA:BB:CC:DD:EE:FF',
    }),
  ),
  smbios_uuid: Type.Optional(Nullable(Type.String({ minLength: 32, maxLength: 38 }))),
  description: Type.Optional(Nullable(Type.String({ maxLength: 8192 }))),
  account_id: Type.Optional(
    Nullable(Type.String({ format: 'uuid', description: 'Account assigned to this VM' })),
  ),
  tags: Type.Optional(Tags),
  notes: Type.Optional(Nullable(Notes)),
};

export const CreateVm = Type.Object(writable, {
  additionalProperties: false,
  examples: [
    {
      node_id: '0194c3a2-0000-7000-8000-0000000000aa',
      vmid: 101,
      type: 'qemu',
      name: 'farm-101',
      status: 'running',
      cpu_cores: 2,
      memory_mb: 4096,
      disk_gb: 32,
      ip_addresses: ['10.0.0.101', 'fd00::101/64'],
      mac_addresses: ['bc:24:11:5e:0a:01'],
      tags: ['eu'],
    },
    { name: 'laptop-vm', type: 'qemu', status: 'stopped', notes: 'Not on Proxmox' },
  ],
});
export const UpdateVm = Type.Object(writable, {
  additionalProperties: false,
  minProperties: 1,
  examples: [
    { account_id: '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f' },
    { notes: 'Reinstalled 2026-11', tags: ['eu', 'rebuilt'] },
  ],
});

export const Vm = Type.Object(
  {
    id: UuidString,
    owner_id: UuidString,
    owner: Type.Optional(OwnerRef),
    ...sharedFields(),
    node_id: Nullable(UuidString),
    vmid: Nullable(Type.Integer()),
    type: VmType,
    name: Nullable(Type.String()),
    status: VmStatus,
    template: Type.Boolean(),
    pve_lock: Nullable(Type.String({ description: 'Proxmox lock (backup, migrate, suspended…)' })),
    cpu_cores: Nullable(Type.Integer()),
    memory_mb: Nullable(Type.Integer()),
    disk_gb: Nullable(Type.Number()),
    ip_addresses: Type.Array(Type.String()),
    mac_addresses: Type.Array(Type.String()),
    smbios_uuid: Nullable(Type.String()),
    tags: Type.Array(Type.String({ description: 'Your tags' })),
    pve_tags: Type.Array(Type.String({ description: 'Tags from Proxmox (kept apart from yours)' })),
    description: Nullable(Type.String()),
    notes: Nullable(Type.String()),
    account_id: Nullable(UuidString),
    cpu_usage: Nullable(
      Type.Number({
        description:
          "CPU use as a fraction of the VM's CPUs, from its node's last sync (absent VMs: the last one that saw it)",
      }),
    ),
    mem_usage: Nullable(
      Type.Integer({ description: 'Memory in use, bytes, from the same sync as cpu_usage' }),
    ),
    uptime_s: Nullable(
      Type.Integer({
        description:
          'Uptime in seconds as of last_seen_at. Moving uptime is no change of the VM: updated_at and the ETag stay.',
      }),
    ),
    source: Type.Union([Type.Literal('agent'), Type.Literal('manual')]),
    last_seen_at: Nullable(
      Type.String({
        format: 'date-time',
        description:
          "When a sync last saw the VM: for a synced VM that is not absent, its node's last complete sync",
      }),
    ),
    absent_since: Nullable(Timestamp),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  {
    $id: 'Vm',
    description: 'A virtual machine or container, entered by hand or synced from a Proxmox node',
    examples: [
      {
        id: '0194c3a2-7b1e-7c3d-9f00-1a2b3c4d5e6f',
        owner_id: '0194c3a2-0000-7000-8000-000000000001',
        node_id: '0194c3a2-0000-7000-8000-0000000000aa',
        vmid: 101,
        type: 'qemu',
        name: 'farm-101',
        status: 'running',
        template: false,
        pve_lock: null,
        cpu_cores: 2,
        memory_mb: 4096,
        disk_gb: 32,
        ip_addresses: ['10.0.0.101'],
        mac_addresses: ['BC:24:11:5E:0A:01'],
        smbios_uuid: '4c4c4544-0042-3510-8052-b4c04f4e4d32',
        tags: ['eu'],
        pve_tags: ['farm'],
        description: null,
        notes: null,
        account_id: null,
        cpu_usage: 0.12,
        mem_usage: 2147483648,
        uptime_s: 86400,
        source: 'agent',
        last_seen_at: '2026-11-24T12:00:00.000Z',
        absent_since: null,
        created_at: '2026-11-24T12:00:00.000Z',
        updated_at: '2026-11-24T12:00:00.000Z',
      },
    ],
  },
);
