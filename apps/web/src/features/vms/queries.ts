'use client';

import { useQuery } from '@tanstack/react-query';
import type { components, paths } from '../../api/schema';
import type { ApiListQuery } from '../../components/list/types';
import { api, unwrap } from '../../lib/api';
import { pageQuery } from '../../lib/list-query';
import { usePollInterval } from '../../lib/live-updates';

export type Vm = components['schemas']['Vm'];
export type NewVm = paths['/api/v1/vms']['post']['requestBody']['content']['application/json'];
export type VmPatch =
  paths['/api/v1/vms/{id}']['patch']['requestBody']['content']['application/json'];
export type VmListQuery = NonNullable<paths['/api/v1/vms']['get']['parameters']['query']>;

export { VM_STATUSES } from './vm-states';

export const vmKeys = {
  all: ['vms'] as const,
  one: (id: string) => ['vms', 'one', id] as const,
  events: (id: string) => ['vms', 'events', id] as const,
};

export async function fetchVmsPage(options: {
  query: ApiListQuery;
  cursor?: string;
  limit: number;
}) {
  const query = pageQuery<VmListQuery>(options);
  return unwrap(await api.GET('/api/v1/vms', { params: { query } }));
}

export function useVm(id: string) {
  const poll = usePollInterval(15_000);
  return useQuery({
    queryKey: vmKeys.one(id),
    queryFn: async () => {
      const result = await api.GET('/api/v1/vms/{id}', { params: { path: { id } } });
      return { vm: unwrap(result), etag: result.response.headers.get('etag') };
    },
    // Live updates refetch it on a change; polling only while they are off.
    refetchInterval: poll,
  });
}

export function useVmEvents(id: string) {
  const poll = usePollInterval(15_000);
  return useQuery({
    queryKey: vmKeys.events(id),
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/vms/{id}/events', {
          params: { path: { id }, query: { limit: 200 } },
        }),
      ).items,
    // Live updates refetch it on a change; polling only while they are off.
    refetchInterval: poll,
  });
}

export async function patchVm(id: string, body: VmPatch, etag?: string | null) {
  return unwrap(
    await api.PATCH('/api/v1/vms/{id}', {
      params: { path: { id } },
      body,
      ...(etag ? { headers: { 'if-match': etag } } : {}),
    }),
  );
}
