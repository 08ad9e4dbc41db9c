'use client';

import Link from 'next/link';
import { deleteAction, tagActions } from '../../components/list/common-actions';
import { ResourceList } from '../../components/list/resource-list';
import { runEach } from '../../components/list/run-each';
import type { BulkAction, Column, Filter } from '../../components/list/types';
import { EmptyState, PageHeader, StatusBadge, Tags } from '../../components/ui';
import { api } from '../../lib/api';
import { saveExport } from '../../lib/download';
import { ago } from '../../lib/time';
import { SHARED_FILTER, SharedBadge } from '../sharing/shared-badge';
import {
  ACCOUNT_STATUSES,
  type Account,
  type AccountListQuery,
  accountKeys,
  deleteAccounts,
  fetchAccountsPage,
  patchAccount,
} from './queries';

const yesNo = [
  { value: 'true', label: 'yes' },
  { value: 'false', label: 'no' },
];

const FILTERS: Filter[] = [
  {
    name: 'status',
    label: 'Status',
    options: ACCOUNT_STATUSES.map((s) => ({ value: s, label: s })),
  },
  { name: 'has_totp', label: '2FA', options: yesNo },
  { name: 'claimed', label: 'Claimed', options: yesNo },
  SHARED_FILTER,
];

const COLUMNS: Column<Account>[] = [
  {
    id: 'username',
    header: 'Username',
    width: 'minmax(12rem, 2fr)',
    sortable: true,
    cell: (a) => (
      <span className="flex flex-wrap items-center gap-2">
        <Link
          href={`/accounts/${a.id}`}
          className="font-medium text-indigo-700 hover:underline dark:text-indigo-300"
        >
          {a.username}
        </Link>
        <SharedBadge sharedBy={a.shared_by} permission={a.permission} />
      </span>
    ),
    text: (a) => a.username,
  },
  {
    id: 'service',
    header: 'Service',
    width: '8rem',
    sortable: true,
    cell: (a) => a.service,
    text: (a) => a.service,
  },
  {
    id: 'email',
    header: 'E-mail',
    width: 'minmax(12rem, 2fr)',
    cell: (a) => a.email ?? '—',
    text: (a) => a.email ?? '',
  },
  {
    id: 'status',
    header: 'Status',
    width: '7rem',
    sortable: true,
    cell: (a) => <StatusBadge status={a.status} />,
    text: (a) => a.status,
  },
  {
    id: 'has_totp',
    header: '2FA',
    width: '4rem',
    cell: (a) => (a.has_totp ? <span title="A 2FA code can be made">✓</span> : '—'),
    text: (a) => (a.has_totp ? 'yes' : 'no'),
  },
  {
    id: 'claimed_by',
    header: 'Claimed by',
    width: '9rem',
    cell: (a) =>
      a.claimed_until && new Date(a.claimed_until).getTime() > Date.now()
        ? (a.claimed_by ?? 'someone')
        : '—',
    text: (a) => a.claimed_by ?? '',
  },
  {
    id: 'tags',
    header: 'Tags',
    width: 'minmax(8rem, 1fr)',
    cell: (a) => <Tags tags={a.tags} inline />,
    text: (a) => a.tags,
  },
  {
    id: 'external_id',
    header: 'External id',
    width: '11rem',
    sortable: true,
    defaultHidden: true,
    cell: (a) => a.external_id ?? '—',
    text: (a) => a.external_id ?? '',
  },
  {
    id: 'created_at',
    header: 'Created',
    width: '7rem',
    sortable: true,
    defaultHidden: true,
    cell: (a) => ago(a.created_at),
    text: (a) => a.created_at,
  },
  {
    id: 'updated_at',
    header: 'Updated',
    width: '7rem',
    sortable: true,
    cell: (a) => ago(a.updated_at),
    text: (a) => a.updated_at,
  },
];

const BULK: BulkAction<Account>[] = [
  {
    id: 'status',
    label: 'Set status',
    input: { label: 'New status', options: ACCOUNT_STATUSES.map((s) => ({ value: s, label: s })) },
    run: async (rows, value, progress) => {
      const status = value as (typeof ACCOUNT_STATUSES)[number];
      const changing = rows.filter((r) => r.status !== status);
      await runEach({
        items: changing,
        task: (r) => patchAccount(r.id, { status }),
        onProgress: progress,
      });
      return `Set ${changing.length} accounts to ${status}.`;
    },
  },
  ...tagActions<Account>({
    entity: 'accounts',
    patchTags: (id, tags) => patchAccount(id, { tags }),
  }),
  deleteAction<Account>({
    entity: 'accounts',
    remove: deleteAccounts,
    consequence:
      'The accounts and their stored secrets are removed for good; links from hardware, VMs and cards are cleared.',
  }),
];

type LegacyExport = 'legacy-json' | 'legacy-csv';

/** The earlier AccountDB's upload format, without secrets (the API's include_secrets=false). */
const LEGACY_EXPORTS: ReadonlyArray<{ format: LegacyExport; label: string; title: string }> = [
  {
    format: 'legacy-json',
    label: 'Earlier JSON',
    title:
      "Export all matching accounts in the earlier AccountDB's upload JSON (flags from status and tags; no secrets)",
  },
  {
    format: 'legacy-csv',
    label: 'Earlier CSV',
    title:
      "Export all matching accounts in the earlier AccountDB's dotted-header CSV (no secrets; values exactly as they are: not for spreadsheets)",
  },
];

export function AccountList() {
  return (
    <>
      <PageHeader
        title="Accounts"
        description="Logins at online services, with their secrets stored encrypted."
        actions={
          <>
            <Link
              href="/accounts/import"
              className="rounded-md border border-zinc-300 px-3 py-2 text-sm font-medium hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-800"
            >
              Import
            </Link>
            <Link
              href="/accounts/new"
              className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500"
            >
              New account
            </Link>
          </>
        }
      />
      <ResourceList<Account, LegacyExport>
        entity="accounts"
        queryKey={accountKeys.all}
        fetchPage={fetchAccountsPage}
        columns={COLUMNS}
        filters={FILTERS}
        defaultSort="-created_at"
        rowHref={(a) => `/accounts/${a.id}`}
        bulkActions={BULK}
        searchPlaceholder="Search username, e-mail, external id, service… (press /)"
        exportAll={async (query, format) =>
          saveExport(
            await api.GET('/api/v1/accounts/export', {
              params: {
                query: {
                  ...(query as Omit<AccountListQuery, 'limit'>),
                  format,
                  include_secrets: false,
                },
              },
              parseAs: 'blob',
            }),
            format.startsWith('legacy-')
              ? `accounts-legacy.${format.slice('legacy-'.length)}`
              : `accounts.${format}`,
          )
        }
        exportFormats={LEGACY_EXPORTS}
        empty={
          <EmptyState title="No accounts yet">
            <Link href="/accounts/new" className="text-indigo-600 underline dark:text-indigo-400">
              Add one
            </Link>{' '}
            or{' '}
            <Link
              href="/accounts/import"
              className="text-indigo-600 underline dark:text-indigo-400"
            >
              import a file
            </Link>
            .
          </EmptyState>
        }
      />
    </>
  );
}
