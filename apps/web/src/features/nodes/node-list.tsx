'use client';

import Link from 'next/link';
import { deleteAction, tagActions } from '../../components/list/common-actions';
import { ResourceList } from '../../components/list/resource-list';
import type { BulkAction, Column, Filter } from '../../components/list/types';
import { EmptyState, PageHeader, StatusBadge, Tags } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { saveExport } from '../../lib/download';
import { ago } from '../../lib/time';
import { SHARED_FILTER, SharedBadge } from '../sharing/shared-badge';
import { fetchNodesPage, NODE_STATUSES, nodeKeys, type ProxmoxNode, patchNode } from './queries';

const FILTERS: Filter[] = [
  { name: 'status', label: 'Status', options: NODE_STATUSES.map((s) => ({ value: s, label: s })) },
  SHARED_FILTER,
];

const stat = (n: ProxmoxNode, key: string) => {
  const value = n.last_sync_stats?.[key];
  return typeof value === 'number' ? value : null;
};

const COLUMNS: Column<ProxmoxNode>[] = [
  {
    id: 'name',
    header: 'Name',
    width: 'minmax(9rem, 1fr)',
    sortable: true,
    cell: (n) => (
      <span className="flex flex-wrap items-center gap-2">
        <Link
          href={`/nodes/${n.id}`}
          className="font-medium text-indigo-700 hover:underline dark:text-indigo-300"
        >
          {n.name}
        </Link>
        <SharedBadge sharedBy={n.shared_by} permission={n.permission} />
      </span>
    ),
    text: (n) => n.name,
  },
  {
    id: 'status',
    header: 'Status',
    width: '7rem',
    sortable: true,
    cell: (n) => <StatusBadge status={n.status} />,
    text: (n) => n.status,
  },
  {
    id: 'hostname',
    header: 'Host',
    width: 'minmax(10rem, 1fr)',
    cell: (n) => (n.hostname ? `${n.hostname}:${n.port}` : '—'),
    text: (n) => n.hostname ?? '',
  },
  {
    id: 'cluster',
    header: 'Cluster',
    width: '8rem',
    cell: (n) => n.cluster ?? '—',
    text: (n) => n.cluster ?? '',
  },
  {
    id: 'guests',
    header: 'Guests',
    width: '6rem',
    cell: (n) => {
      const synced = ['created', 'updated', 'unchanged'].reduce(
        (sum, k) => sum + (stat(n, k) ?? 0),
        0,
      );
      return n.last_sync_stats ? synced : '—';
    },
  },
  {
    id: 'last_seen_at',
    header: 'Last seen',
    width: '8rem',
    sortable: true,
    cell: (n) => ago(n.last_seen_at),
    text: (n) => n.last_seen_at ?? '',
  },
  {
    id: 'last_sync_at',
    header: 'Last sync',
    width: '8rem',
    cell: (n) => ago(n.last_sync_at),
    text: (n) => n.last_sync_at ?? '',
  },
  {
    id: 'last_error',
    header: 'Last error',
    width: 'minmax(12rem, 2fr)',
    cell: (n) =>
      n.last_error ? <span className="text-red-700 dark:text-red-300">{n.last_error}</span> : '—',
    text: (n) => n.last_error ?? '',
  },
  {
    id: 'sync_mode',
    header: 'Syncs',
    width: '7rem',
    cell: (n) => (n.sync_mode === 'all' ? 'all guests' : 'whitelist'),
  },
  {
    id: 'agent_version',
    header: 'Agent',
    width: '6rem',
    defaultHidden: true,
    cell: (n) => n.agent_version ?? '—',
  },
  {
    id: 'pve_version',
    header: 'Proxmox',
    width: '6rem',
    defaultHidden: true,
    cell: (n) => n.pve_version ?? '—',
  },
  {
    id: 'tags',
    header: 'Tags',
    width: 'minmax(8rem, 1fr)',
    defaultHidden: true,
    cell: (n) => <Tags tags={n.tags} inline />,
    text: (n) => n.tags,
  },
  {
    id: 'created_at',
    header: 'Created',
    width: '7rem',
    sortable: true,
    defaultHidden: true,
    cell: (n) => ago(n.created_at),
  },
];

const BULK: BulkAction<ProxmoxNode>[] = [
  ...tagActions<ProxmoxNode>({ entity: 'nodes', patchTags: (id, tags) => patchNode(id, { tags }) }),
  deleteAction<ProxmoxNode>({
    entity: 'nodes',
    remove: async (ids) =>
      unwrap(await api.POST('/api/v1/proxmox-nodes/bulk-delete', { body: { ids } })),
    consequence: 'Their agent keys stop working. VMs synced from them stay, without their node.',
  }),
];

export function NodeList() {
  return (
    <>
      <PageHeader
        title="Nodes"
        description="Proxmox VE nodes whose agents keep the VMs in sync."
        actions={
          <Link
            href="/nodes/new"
            className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500"
          >
            Register node
          </Link>
        }
      />
      <ResourceList<ProxmoxNode>
        entity="nodes"
        queryKey={nodeKeys.all}
        pollMs={30_000}
        pollWhileLiveMs={60_000}
        fetchPage={fetchNodesPage}
        columns={COLUMNS}
        filters={FILTERS}
        defaultSort="name"
        rowHref={(n) => `/nodes/${n.id}`}
        bulkActions={BULK}
        exportAll={async (query, format) =>
          saveExport(
            await api.GET('/api/v1/proxmox-nodes/export', {
              params: { query: { ...(query as Record<string, never>), format } },
              parseAs: 'blob',
            }),
            `proxmox-nodes.${format}`,
          )
        }
        empty={
          <EmptyState title="No nodes yet">
            <Link href="/nodes/new" className="text-indigo-600 underline dark:text-indigo-400">
              Register a Proxmox node
            </Link>{' '}
            and install the agent on it: its VMs appear here by themselves.
          </EmptyState>
        }
      />
    </>
  );
}
