'use client';

import Link from 'next/link';
import { useCallback, useMemo } from 'react';
import { deleteAction, tagActions } from '../../components/list/common-actions';
import { ResourceList } from '../../components/list/resource-list';
import type { BulkAction, Column, Filter } from '../../components/list/types';
import { EmptyState, PageHeader, Tags } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { saveExport } from '../../lib/download';
import { ago } from '../../lib/time';
import { useUrlFilters } from '../../lib/url-filters';
import { CollisionsBanner } from './collisions-banner';
import { HardwareLookup } from './hardware-lookup';
import {
  fetchHardwarePage,
  type Hardware,
  type HardwareField,
  type HardwareListQuery,
  hardwareKeys,
  patchHardware,
  URL_FILTERS,
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
const plain = (v: string | null) => v ?? '—';

/** An identifier column: monospaced for MACs, UUIDs and serials; sortable where the API is. */
function identifier(
  id: HardwareField,
  header: string,
  width: string,
  options: { mono?: boolean; hidden?: boolean; sortable?: boolean } = {},
): Column<Hardware> {
  return {
    id,
    header,
    width,
    ...(options.sortable ? { sortable: true } : {}),
    ...(options.hidden ? { defaultHidden: true } : {}),
    cell: (h) => (options.mono ? mono(h[id]) : plain(h[id])),
    text: (h) => h[id] ?? '',
  };
}

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
  identifier('mac_address', 'MAC', '10.5rem', { mono: true, sortable: true }),
  identifier('smbios_uuid', 'SMBIOS UUID', '19rem', { mono: true }),
  identifier('mb_product', 'Motherboard', 'minmax(9rem, 1fr)', { sortable: true }),
  identifier('mb_manufacturer', 'Board maker', '9rem', { hidden: true }),
  identifier('mb_version', 'Board version', '9rem', { hidden: true }),
  identifier('mb_serial', 'Board serial', '10rem', { mono: true, hidden: true }),
  identifier('bios_vendor', 'BIOS vendor', '9rem', { hidden: true }),
  identifier('bios_version', 'BIOS version', '9rem', { hidden: true }),
  identifier('disk_model', 'Disk model', '10rem', { hidden: true }),
  identifier('disk_serial', 'Disk serial', '10rem', { mono: true, hidden: true }),
  identifier('machine_guid', 'Machine GUID', '19rem', { mono: true, hidden: true }),
  identifier('hwprofile_guid', 'HW profile GUID', '19rem', { mono: true, hidden: true }),
  identifier('product_id', 'Product id', '12rem', { mono: true, hidden: true }),
  identifier('device_id', 'Device id', '12rem', { mono: true, hidden: true }),
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
    text: (h) =>
      [h.account_id ? `account ${h.account_id}` : '', h.vm_id ? `vm ${h.vm_id}` : '']
        .filter(Boolean)
        .join('; '),
  },
  {
    id: 'tags',
    header: 'Tags',
    width: 'minmax(8rem, 1fr)',
    cell: (h) => <Tags tags={h.tags} inline />,
    text: (h) => h.tags,
  },
  {
    id: 'notes',
    header: 'Notes',
    width: 'minmax(10rem, 1fr)',
    defaultHidden: true,
    cell: (h) => <span className="truncate">{h.notes ?? '—'}</span>,
    text: (h) => h.notes ?? '',
  },
  {
    id: 'created_at',
    header: 'Added',
    width: '7rem',
    sortable: true,
    defaultHidden: true,
    cell: (h) => ago(h.created_at),
    text: (h) => h.created_at,
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
  const { values: exact, set: setExact } = useUrlFilters(URL_FILTERS);
  const key = JSON.stringify(exact);
  const fetchPage = useCallback(
    (options: Parameters<typeof fetchHardwarePage>[0]) =>
      fetchHardwarePage({ ...options, query: { ...options.query, ...exact } }),
    [exact],
  );
  const queryKey = useMemo(() => [...hardwareKeys.all, 'exact', exact], [exact]);
  return (
    <>
      <PageHeader
        title="Hardware"
        description="Hardware profiles: the identifiers a machine presents to a service."
        actions={
          <>
            <Link
              href="/hardware/import"
              className="rounded-md border border-zinc-300 px-3 py-2 text-sm font-medium hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-800"
            >
              Import
            </Link>
            <Link
              href="/hardware/new"
              className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500 focus-visible:outline-2 focus-visible:outline-offset-2 focus-visible:outline-indigo-500"
            >
              New hardware
            </Link>
          </>
        }
      />
      <div className="mb-3">
        <CollisionsBanner />
      </div>
      <HardwareLookup values={exact} onChange={setExact} />
      <ResourceList<Hardware>
        key={key}
        entity="hardware profiles"
        queryKey={queryKey}
        fetchPage={fetchPage}
        columns={COLUMNS}
        filters={FILTERS}
        defaultSort="-created_at"
        rowHref={(h) => `/hardware/${h.id}`}
        bulkActions={BULK}
        searchPlaceholder="Search name, MAC, UUID, serials… (press /)"
        exportAll={async (query, format) =>
          saveExport(
            await api.GET('/api/v1/hardware/export', {
              params: {
                query: { ...(query as Omit<HardwareListQuery, 'limit'>), ...exact, format },
              },
              parseAs: 'blob',
            }),
            `hardware.${format}`,
          )
        }
        empty={
          Object.keys(exact).length > 0 ? (
            <EmptyState title="No hardware profile matches the exact filter">
              <button
                type="button"
                className="text-indigo-600 underline dark:text-indigo-400"
                onClick={() =>
                  setExact(Object.fromEntries(URL_FILTERS.map((name) => [name, null])))
                }
              >
                Remove the exact filters
              </button>
            </EmptyState>
          ) : (
            <EmptyState title="No hardware profiles yet">
              <Link href="/hardware/new" className="text-indigo-600 underline dark:text-indigo-400">
                Add one
              </Link>{' '}
              or{' '}
              <Link
                href="/hardware/import"
                className="text-indigo-600 underline dark:text-indigo-400"
              >
                import a file
              </Link>{' '}
              (JSON, JSON lines or CSV; the earlier AccountDB&apos;s hardware too).
            </EmptyState>
          )
        }
      />
    </>
  );
}
