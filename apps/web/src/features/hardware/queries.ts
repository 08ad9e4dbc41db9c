'use client';

import { useQuery } from '@tanstack/react-query';
import type { components, paths } from '../../api/schema';
import type { ApiListQuery } from '../../components/list/types';
import { api, unwrap } from '../../lib/api';
import { pageQuery } from '../../lib/list-query';

export type Hardware = components['schemas']['Hardware'];
type Vm = components['schemas']['Vm'];
export type NewHardware =
  paths['/api/v1/hardware']['post']['requestBody']['content']['application/json'];
export type HardwarePatch =
  paths['/api/v1/hardware/{id}']['patch']['requestBody']['content']['application/json'];
export type HardwareListQuery = NonNullable<
  paths['/api/v1/hardware']['get']['parameters']['query']
>;
export type HardwareImportResult =
  paths['/api/v1/hardware/import']['post']['responses'][200]['content']['application/json'];
export type Collision =
  paths['/api/v1/hardware/collisions']['get']['responses'][200]['content']['application/json']['items'][number];

export const hardwareKeys = {
  all: ['hardware'] as const,
  one: (id: string) => ['hardware', 'one', id] as const,
  collisions: ['hardware', 'collisions'] as const,
};

/** The identifier fields in the order a person reads them, with their labels. */
export const HARDWARE_FIELDS = [
  ['pcname', 'Computer name'],
  ['mac_address', 'MAC address'],
  ['smbios_uuid', 'SMBIOS UUID'],
  ['machine_guid', 'Machine GUID'],
  ['hwprofile_guid', 'HW profile GUID'],
  ['product_id', 'Windows product id'],
  ['device_id', 'Device id'],
  ['bios_vendor', 'BIOS vendor'],
  ['bios_version', 'BIOS version'],
  ['mb_manufacturer', 'Motherboard manufacturer'],
  ['mb_product', 'Motherboard product'],
  ['mb_version', 'Motherboard version'],
  ['mb_serial', 'Motherboard serial'],
  ['disk_model', 'Disk model'],
  ['disk_serial', 'Disk serial'],
] as const;
export type HardwareField = (typeof HARDWARE_FIELDS)[number][0];

/** The UUID identifier fields (the API accepts them with or without braces and dashes). */
export const UUID_FIELDS: readonly HardwareField[] = [
  'smbios_uuid',
  'machine_guid',
  'hwprofile_guid',
];

/**
 * The API's MAC rule (LooseMac + normalizeMac): 12 to 17 characters that are 12 hex digits
 * once spaces, colons, dots and dashes are left out.
 */
export const isMac = (value: string) =>
  value.length >= 12 &&
  value.length <= 17 &&
  /^[0-9a-fA-F]{12}$/.test(value.replace(/[\s:.-]/g, ''));

/** The API's UUID rule (LooseUuid + normalizeUuid): 32 to 38 characters, 32 hex digits. */
export const isUuid = (value: string) =>
  value.length >= 32 &&
  value.length <= 38 &&
  /^[0-9a-fA-F]{32}$/.test(value.replace(/[{}\s-]/g, ''));

export const MAC_HINT = 'A MAC address like BC:24:11:5E:0A:01 (any spelling).';
export const UUID_HINT = 'A UUID like 4c4c4544-0042-3510-8052-b4c04f4e4d32 (braces optional).';

/** The typed-in filters of GET /hardware: identifier lookups and links. */
export const LOOKUPS = [
  ['mac_address', 'MAC address'],
  ['uuid', 'Any UUID'],
  ['smbios_uuid', 'SMBIOS UUID'],
  ['machine_guid', 'Machine GUID'],
  ['hwprofile_guid', 'HW profile GUID'],
] as const;
export type Lookup = (typeof LOOKUPS)[number][0];
export const URL_FILTERS = [...LOOKUPS.map(([name]) => name), 'account_id', 'vm_id'] as const;
export type UrlFilter = (typeof URL_FILTERS)[number];

export async function fetchHardwarePage(options: {
  query: ApiListQuery;
  cursor?: string;
  limit: number;
}) {
  const query = pageQuery<HardwareListQuery>(options);
  return unwrap(await api.GET('/api/v1/hardware', { params: { query } }));
}

export function useHardware(id: string) {
  return useQuery({
    queryKey: hardwareKeys.one(id),
    queryFn: async () => {
      const result = await api.GET('/api/v1/hardware/{id}', { params: { path: { id } } });
      return { hardware: unwrap(result), etag: result.response.headers.get('etag') };
    },
  });
}

/** Identifier collisions of one's hardware; an admin's "All users" scope: every user's. */
export function useCollisions(all = false) {
  return useQuery({
    queryKey: [...hardwareKeys.collisions, all ? 'all' : 'own'],
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/hardware/collisions', {
          params: { query: all ? { scope: 'all' } : {} },
        }),
      ).items,
  });
}

/** The VM a profile is linked to (its name for the links card). */
export function useVmName(vmId: string | null) {
  return useQuery({
    queryKey: ['vms', 'one', vmId, 'name'],
    enabled: vmId !== null,
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/vms/{id}', { params: { path: { id: vmId as string } } })),
  });
}

/** VMs presenting this profile's SMBIOS UUID or MAC address (the agent links the first). */
export function useVmsSharing(hardware: Pick<Hardware, 'id' | 'smbios_uuid' | 'mac_address'>) {
  const { smbios_uuid, mac_address } = hardware;
  return useQuery({
    queryKey: [...hardwareKeys.one(hardware.id), 'vms', smbios_uuid, mac_address],
    enabled: Boolean(smbios_uuid || mac_address),
    queryFn: async () => {
      const lists = await Promise.all([
        smbios_uuid
          ? api.GET('/api/v1/vms', { params: { query: { smbios_uuid, limit: 20 } } }).then(unwrap)
          : null,
        mac_address
          ? api.GET('/api/v1/vms', { params: { query: { mac_address, limit: 20 } } }).then(unwrap)
          : null,
      ]);
      const vms = new Map<string, Vm & { by: string[] }>();
      for (const [i, list] of lists.entries()) {
        for (const vm of list?.items ?? []) {
          const entry = vms.get(vm.id) ?? { ...vm, by: [] };
          entry.by.push(i === 0 ? 'SMBIOS UUID' : 'MAC address');
          vms.set(vm.id, entry);
        }
      }
      return [...vms.values()];
    },
  });
}

export async function patchHardware(id: string, body: HardwarePatch, etag?: string | null) {
  return unwrap(
    await api.PATCH('/api/v1/hardware/{id}', {
      params: { path: { id } },
      body,
      ...(etag ? { headers: { 'if-match': etag } } : {}),
    }),
  );
}
