'use client';

import Link from 'next/link';
import { deleteAction, tagActions } from '../../components/list/common-actions';
import { ResourceList } from '../../components/list/resource-list';
import type { BulkAction, Column, Filter } from '../../components/list/types';
import { EmptyState, PageHeader, Tags } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { saveExport } from '../../lib/download';
import { ago } from '../../lib/time';
import { CollisionsBanner } from './collisions-banner';
import {
  fetchHardwarePage,
  type Hardware,
  type HardwareListQuery,
  hardwareKeys,
  patchHardware,
} from './queries';

const FILTERS: Filter[] = [
  {
    name: 'linked',
    label: 'Linked',
    options: [
      { value: 'true', label: 'to an account or VM' },
      { value: 'false', label: 'to nothing' },
    ],
  },
];

const mono = (v: string | null) => (v ? <span className="font-mono text-xs">{v}</span> : '—');

const COLUMNS: Column<Hardware>[] = [
  {
    id: 'pcname',
    header: 'Computer name',
    width: 'minmax(10rem, 1fr)',
    sortable: true,
    cell: (h) => (
      <Link
        href={`/hardware/${h.id}`}
        className="font-medium text-indigo-700 hover:underline dark:text-indigo-300"
      >
        {h.pcname ?? '(no name)'}
      </Link>
    ),
    text: (h) => h.pcname ?? '',
  },
  {
    id: 'mac_address',
    header: 'MAC',
    width: '10.5rem',
    sortable: true,
    cell: (h) => mono(h.mac_address),
    text: (h) => h.mac_address ?? '',
  },
  {
    id: 'smbios_uuid',
    header: 'SMBIOS UUID',
    width: '19rem',
    cell: (h) => mono(h.smbios_uuid),
    text: (h) => h.smbios_uuid ?? '',
  },
  {
    id: 'mb_product',
    header: 'Motherboard',
    width: 'minmax(9rem, 1fr)',
    sortable: true,
    cell: (h) => h.mb_product ?? '—',
    text: (h) => h.mb_product ?? '',
  },
  {
    id: 'disk_serial',
    header: 'Disk serial',
    width: '10rem',
    defaultHidden: true,
    cell: (h) => mono(h.disk_serial),
    text: (h) => h.disk_serial ?? '',
  },
  {
    id: 'machine_guid',
    header: 'Machine GUID',
    width: '19rem',
    defaultHidden: true,
    cell: (h) => mono(h.machine_guid),
    text: (h) => h.machine_guid ?? '',
  },
  {
    id: 'links',
    header: 'Linked to',
    width: '9rem',
    cell: (h) => (
      <span className="flex gap-2">
        {h.account_id ? (
          <Link href={`/accounts/${h.account_id}`} className="hover:underline">
            account
          </Link>
        ) : null}
        {h.vm_id ? (
          <Link href={`/vms/${h.vm_id}`} className="hover:underline">
            VM
          </Link>
        ) : null}
        {!h.account_id && !h.vm_id ? '—' : null}
      </span>
    ),
  },
  {
    id: 'tags',
    header: 'Tags',
    width: 'minmax(8rem, 1fr)',
    cell: (h) => <Tags tags={h.tags} inline />,
    text: (h) => h.tags.join(' '),
  },
  {
    id: 'updated_at',
    header: 'Updated',
    width: '7rem',
    sortable: true,
    cell: (h) => ago(h.updated_at),
    text: (h) => h.updated_at,
  },
];

const BULK: BulkAction<Hardware>[] = [
  ...tagActions<Hardware>({
    entity: 'hardware profiles',
    patchTags: (id, tags) => patchHardware(id, { tags }),
  }),
  deleteAction<Hardware>({
    entity: 'hardware profiles',
    remove: async (ids) =>
      unwrap(await api.POST('/api/v1/hardware/bulk-delete', { body: { ids } })),
  }),
];

export function HardwareList() {
  return (
    <>
      <PageHeader
        title="Hardware"
        description="Hardware profiles: the identifiers a machine presents to a service."
        actions={
          <Link
            href="/hardware/new"
            className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500"
          >
            New hardware
          </Link>
        }
      />
      <div className="mb-3">
        <CollisionsBanner />
      </div>
      <ResourceList<Hardware>
        entity="hardware profiles"
        queryKey={hardwareKeys.all}
        fetchPage={fetchHardwarePage}
        columns={COLUMNS}
        filters={FILTERS}
        defaultSort="-created_at"
        rowHref={(h) => `/hardware/${h.id}`}
        bulkActions={BULK}
        searchPlaceholder="Search name, MAC, UUID, serials… (press /)"
        exportAll={async (query, format) =>
          saveExport(
            await api.GET('/api/v1/hardware/export', {
              params: { query: { ...(query as Omit<HardwareListQuery, 'limit'>), format } },
              parseAs: 'blob',
            }),
            `hardware.${format}`,
          )
        }
        empty={
          <EmptyState title="No hardware profiles yet">
            <Link href="/hardware/new" className="text-indigo-600 underline dark:text-indigo-400">
              Add one
            </Link>
            , or create many at once with POST /api/v1/hardware/bulk.
          </EmptyState>
        }
      />
    </>
  );
}
