'use client';

import Link from 'next/link';
import { useMemo } from 'react';
import { deleteAction, tagActions } from '../../components/list/common-actions';
import { ResourceList } from '../../components/list/resource-list';
import type { BulkAction, Column, Filter } from '../../components/list/types';
import { EmptyState, PageHeader, StatusBadge, Tags } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { saveExport } from '../../lib/download';
import { ago } from '../../lib/time';
import { useNodeOptions } from '../nodes/queries';
import { SHARED_FILTER, SharedBadge } from '../sharing/shared-badge';
import { fetchVmsPage, patchVm, VM_STATUSES, type Vm, type VmListQuery, vmKeys } from './queries';
import { VmStatusBadge } from './vm-status-badge';

const yesNo = [
  { value: 'true', label: 'yes' },
  { value: 'false', label: 'no' },
];

const mib = (mb: number | null) =>
  mb === null ? '—' : mb >= 1024 ? `${(mb / 1024).toFixed(mb % 1024 ? 1 : 0)} GiB` : `${mb} MiB`;

function columns(nodeNames: Map<string, string>): Column<Vm>[] {
  return [
    {
      id: 'vmid',
      header: 'VMID',
      width: '5.5rem',
      sortable: true,
      cell: (v) => v.vmid ?? '—',
      text: (v) => String(v.vmid ?? ''),
    },
    {
      id: 'name',
      header: 'Name',
      width: 'minmax(10rem, 2fr)',
      sortable: true,
      cell: (v) => (
        <span className="flex flex-wrap items-center gap-2">
          <Link
            href={`/vms/${v.id}`}
            className="font-medium text-indigo-700 hover:underline dark:text-indigo-300"
          >
            {v.name ?? `VM ${v.vmid ?? ''}`}
          </Link>
          <SharedBadge sharedBy={v.shared_by} permission={v.permission} />
        </span>
      ),

      text: (v) => v.name ?? '',
    },
    {
      id: 'node',
      header: 'Node',
      width: '7rem',
      cell: (v) =>
        v.node_id ? (
          <Link href={`/nodes/${v.node_id}`} className="hover:underline">
            {nodeNames.get(v.node_id) ?? '…'}
          </Link>
        ) : (
          '—'
        ),
      text: (v) => (v.node_id ? (nodeNames.get(v.node_id) ?? v.node_id) : ''),
    },
    { id: 'type', header: 'Type', width: '4.5rem', cell: (v) => v.type, text: (v) => v.type },
    {
      id: 'status',
      header: 'Status',
      width: '8.5rem',
      sortable: true,
      cell: (v) => (
        <span className="flex items-center gap-1">
          <VmStatusBadge status={v.status} />
          {v.absent_since ? <StatusBadge status="absent" /> : null}
        </span>
      ),
      text: (v) => (v.absent_since ? `${v.status} (absent)` : v.status),
    },
    {
      id: 'ip_addresses',
      header: 'IPs',
      width: 'minmax(9rem, 1fr)',
      cell: (v) => v.ip_addresses.join(', ') || '—',
      text: (v) => v.ip_addresses,
    },
    {
      id: 'account',
      header: 'Account',
      width: '6rem',
      cell: (v) =>
        v.account_id ? (
          <Link href={`/accounts/${v.account_id}`} className="hover:underline">
            assigned
          </Link>
        ) : (
          '—'
        ),
      text: (v) => v.account_id ?? '',
    },
    {
      id: 'tags',
      header: 'Tags',
      width: 'minmax(8rem, 1fr)',
      cell: (v) => <Tags tags={[...v.tags, ...v.pve_tags.map((t) => `pve:${t}`)]} inline />,
      text: (v) => v.tags,
    },
    {
      id: 'cpu_cores',
      header: 'CPU',
      width: '4rem',
      defaultHidden: true,
      cell: (v) => v.cpu_cores ?? '—',
    },
    {
      id: 'memory_mb',
      header: 'Memory',
      width: '6rem',
      defaultHidden: true,
      cell: (v) => mib(v.memory_mb),
    },
    {
      id: 'disk_gb',
      header: 'Disk',
      width: '5rem',
      defaultHidden: true,
      cell: (v) => (v.disk_gb === null ? '—' : `${v.disk_gb} GB`),
    },
    {
      id: 'last_seen_at',
      header: 'Last seen',
      width: '8.5rem',
      sortable: true,
      cell: (v) => ago(v.last_seen_at),
      text: (v) => v.last_seen_at ?? '',
    },
    {
      id: 'source',
      header: 'Source',
      width: '5rem',
      defaultHidden: true,
      cell: (v) => v.source,
      text: (v) => v.source,
    },
    {
      id: 'updated_at',
      header: 'Updated',
      width: '8.5rem',
      sortable: true,
      defaultHidden: true,
      cell: (v) => ago(v.updated_at),
    },
  ];
}

const BULK: BulkAction<Vm>[] = [
  ...tagActions<Vm>({ entity: 'VMs', patchTags: (id, tags) => patchVm(id, { tags }) }),
  deleteAction<Vm>({
    entity: 'VMs',
    remove: async (ids) => unwrap(await api.POST('/api/v1/vms/bulk-delete', { body: { ids } })),
    consequence:
      'They are removed with their status history. A VM that still exists on a synced node comes back with the next sync.',
  }),
];

export function VmList() {
  const nodes = useNodeOptions();
  const nodeNames = useMemo(
    () => new Map((nodes.data ?? []).map((n) => [n.id, n.name])),
    [nodes.data],
  );
  const cols = useMemo(() => columns(nodeNames), [nodeNames]);
  const filters: Filter[] = useMemo(
    () => [
      {
        name: 'status',
        label: 'Status',
        options: VM_STATUSES.map((s) => ({ value: s, label: s })),
      },
      {
        name: 'node_id',
        label: 'Node',
        options: (nodes.data ?? []).map((n) => ({ value: n.id, label: n.name })),
      },
      {
        name: 'type',
        label: 'Type',
        options: [
          { value: 'qemu', label: 'VM (qemu)' },
          { value: 'lxc', label: 'container (lxc)' },
        ],
      },
      SHARED_FILTER,
      { name: 'assigned', label: 'Assigned', options: yesNo },
      { name: 'absent', label: 'Absent', options: yesNo },
      { name: 'template', label: 'Template', options: yesNo },
      {
        name: 'source',
        label: 'Source',
        options: [
          { value: 'agent', label: 'agent' },
          { value: 'manual', label: 'manual' },
        ],
      },
    ],
    [nodes.data],
  );
  return (
    <>
      <PageHeader
        title="VMs"
        description="Virtual machines and containers, kept current by the agents of your Proxmox nodes."
        actions={
          <Link
            href="/vms/new"
            className="rounded-md border border-zinc-300 px-3 py-2 text-sm font-medium hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-800"
          >
            New VM
          </Link>
        }
      />
      <ResourceList<Vm>
        entity="VMs"
        queryKey={vmKeys.all}
        pollMs={30_000}
        fetchPage={fetchVmsPage}
        columns={cols}
        filters={filters}
        defaultSort="vmid"
        rowHref={(v) => `/vms/${v.id}`}
        bulkActions={BULK}
        searchPlaceholder="Search name, VMID, description… (press /)"
        exportAll={async (query, format) =>
          saveExport(
            await api.GET('/api/v1/vms/export', {
              params: { query: { ...(query as Omit<VmListQuery, 'limit'>), format } },
              parseAs: 'blob',
            }),
            `vms.${format}`,
          )
        }
        empty={
          <EmptyState title="No VMs yet">
            <Link href="/nodes/new" className="text-indigo-600 underline dark:text-indigo-400">
              Register a Proxmox node
            </Link>{' '}
            and its agent fills this list, or{' '}
            <Link href="/vms/new" className="text-indigo-600 underline dark:text-indigo-400">
              add a VM by hand
            </Link>
            .
          </EmptyState>
        }
      />
    </>
  );
}
