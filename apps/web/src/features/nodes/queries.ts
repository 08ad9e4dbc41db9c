'use client';

import { useQuery } from '@tanstack/react-query';
import type { components, paths } from '../../api/schema';
import type { ApiListQuery } from '../../components/list/types';
import { api, unwrap } from '../../lib/api';
import { pageQuery } from '../../lib/list-query';
import { usePollInterval } from '../../lib/live-updates';

export type ProxmoxNode = components['schemas']['ProxmoxNode'];
export type NewNode =
  paths['/api/v1/proxmox-nodes']['post']['requestBody']['content']['application/json'];
export type NodePatch =
  paths['/api/v1/proxmox-nodes/{id}']['patch']['requestBody']['content']['application/json'];
type NodeListQuery = NonNullable<paths['/api/v1/proxmox-nodes']['get']['parameters']['query']>;

export const NODE_STATUSES = ['pending', 'online', 'stale', 'offline', 'error'] as const;

export const nodeKeys = {
  all: ['nodes'] as const,
  one: (id: string) => ['nodes', 'one', id] as const,
  options: ['nodes', 'options'] as const,
};

export async function fetchNodesPage(options: {
  query: ApiListQuery;
  cursor?: string;
  limit: number;
}) {
  const query = pageQuery<NodeListQuery>(options);
  return unwrap(await api.GET('/api/v1/proxmox-nodes', { params: { query } }));
}

export function useNode(id: string) {
  const poll = usePollInterval(15_000, 60_000);
  return useQuery({
    queryKey: nodeKeys.one(id),
    queryFn: async () => {
      const result = await api.GET('/api/v1/proxmox-nodes/{id}', { params: { path: { id } } });
      return { node: unwrap(result), etag: result.response.headers.get('etag') };
    },
    // Status and sync figures change with every agent report: live updates refetch it then;
    // polling only while they are off.
    refetchInterval: poll,
  });
}

/** Every node of the user, for pickers and filters (a fleet has tens of nodes, not thousands). */
export function useNodeOptions() {
  return useQuery({
    queryKey: nodeKeys.options,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/proxmox-nodes', { params: { query: { limit: 500, sort: 'name' } } }),
      ).items,
    staleTime: 60_000,
  });
}

export async function patchNode(id: string, body: NodePatch, etag?: string | null) {
  return unwrap(
    await api.PATCH('/api/v1/proxmox-nodes/{id}', {
      params: { path: { id } },
      body,
      ...(etag ? { headers: { 'if-match': etag } } : {}),
    }),
  );
}
