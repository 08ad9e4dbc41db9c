import { isIP } from 'node:net';
import type { Static } from 'typebox';
import type { vms } from '../../db/schema.js';
import { normalizeTags } from '../../http/resource/fields.js';
import type { SyncVm } from './schemas.js';

type Row = typeof vms.$inferSelect;
type Incoming = Static<typeof SyncVm>;

/** Columns a sync may set, from one observed guest; keys absent when not observed. */
export type ObservedValues = Partial<
  Pick<
    Row,
    | 'type'
    | 'name'
    | 'status'
    | 'template'
    | 'pveLock'
    | 'cpuCores'
    | 'memoryMb'
    | 'diskGb'
    | 'ipAddresses'
    | 'macAddresses'
    | 'smbiosUuid'
    | 'pveTags'
    | 'description'
  >
>;

/** Usage figures: stored on every sync, never counted as a change of the VM. */
export interface Usage {
  cpuUsage: number | null;
  memUsage: number | null;
  uptimeS: number | null;
}

const macOf = (m: string): string | null => {
  const hex = m.replace(/[\s:.-]/g, '');
  return /^[0-9a-fA-F]{12}$/.test(hex) ? (hex.toUpperCase().match(/../g) ?? []).join(':') : null;
};

const uuidOf = (u: string | null | undefined): string | null => {
  if (!u) return null;
  const hex = u.replace(/[{}\s-]/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex) || /^0+$/.test(hex)) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
};

/**
 * What the agent saw, in column form. Values the server cannot use (an address that is not
 * an IP, a malformed MAC) are dropped rather than failing the whole sync.
 */
export function observedValues(vm: Incoming): { values: ObservedValues; usage: Usage } {
  const values: ObservedValues = { type: vm.type, status: vm.status };
  if (vm.name !== undefined) values.name = vm.name;
  if (vm.template !== undefined) values.template = vm.template;
  if (vm.lock !== undefined) values.pveLock = vm.lock;
  if (vm.cpu_cores !== undefined) values.cpuCores = vm.cpu_cores;
  if (vm.memory_mb !== undefined) values.memoryMb = vm.memory_mb;
  if (vm.disk_gb !== undefined) values.diskGb = vm.disk_gb;
  if (vm.description !== undefined) values.description = vm.description;
  if (vm.ip_addresses !== undefined) {
    values.ipAddresses = [
      ...new Set(
        vm.ip_addresses
          .map((ip) =>
            ip
              .trim()
              .replace(/\/\d{1,3}$/, '')
              .toLowerCase(),
          )
          .filter((ip) => isIP(ip) !== 0),
      ),
    ];
  }
  if (vm.mac_addresses !== undefined) {
    values.macAddresses = [
      ...new Set(vm.mac_addresses.map(macOf).filter((m): m is string => m !== null)),
    ];
  }
  if (vm.smbios_uuid !== undefined) values.smbiosUuid = uuidOf(vm.smbios_uuid);
  if (vm.tags !== undefined) values.pveTags = normalizeTags(vm.tags);
  return {
    values,
    usage: {
      cpuUsage: vm.cpu_usage ?? null,
      memUsage: vm.mem_usage ?? null,
      uptimeS: vm.uptime_s ?? null,
    },
  };
}

const same = (a: unknown, b: unknown): boolean => {
  if (Array.isArray(a) && Array.isArray(b))
    return a.length === b.length && a.every((v, i) => v === b[i]);
  return a === b;
};

/** The observed values that differ from the stored row. */
export function changedValues(row: Row, values: ObservedValues): ObservedValues {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(values)) {
    if (!same((row as Record<string, unknown>)[key], value)) out[key] = value;
  }
  return out as ObservedValues;
}
