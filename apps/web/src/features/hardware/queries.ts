'use client';

import { useQuery } from '@tanstack/react-query';
import type { components, paths } from '../../api/schema';
import type { ApiListQuery } from '../../components/list/types';
import { api, unwrap } from '../../lib/api';
import { pageQuery } from '../../lib/list-query';

export type Hardware = components['schemas']['Hardware'];
export type NewHardware =
  paths['/api/v1/hardware']['post']['requestBody']['content']['application/json'];
export type HardwarePatch =
  paths['/api/v1/hardware/{id}']['patch']['requestBody']['content']['application/json'];
export type HardwareListQuery = NonNullable<
  paths['/api/v1/hardware']['get']['parameters']['query']
>;
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

export function useCollisions() {
  return useQuery({
    queryKey: hardwareKeys.collisions,
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/hardware/collisions', { params: { query: {} } })).items,
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
