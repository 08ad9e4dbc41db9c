'use client';

import Link from 'next/link';
import { useState } from 'react';
import { deleteAction, tagActions } from '../../components/list/common-actions';
import { ResourceList } from '../../components/list/resource-list';
import { runEach } from '../../components/list/run-each';
import type { BulkAction, Column, Filter } from '../../components/list/types';
import { Button, EmptyState, PageHeader, StatusBadge, Tags } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { saveExport } from '../../lib/download';
import { ago } from '../../lib/time';
import { ClaimCardDialog } from './claim-card-dialog';
import {
  CARD_STATUSES,
  type CardListQuery,
  type CardRecord,
  cardKeys,
  fetchCardsPage,
  money,
  patchCard,
} from './queries';

const FILTERS: Filter[] = [
  { name: 'status', label: 'Status', options: CARD_STATUSES.map((s) => ({ value: s, label: s })) },
];

const COLUMNS: Column<CardRecord>[] = [
  {
    id: 'code_hint',
    header: 'Code',
    width: 'minmax(10rem, 1fr)',
    cell: (c) => (
      <Link
        href={`/cards/${c.id}`}
        className="font-mono font-medium text-indigo-700 hover:underline dark:text-indigo-300"
      >
        {c.code_hint}
      </Link>
    ),
    text: (c) => c.code_hint,
  },
  {
    id: 'value',
    header: 'Value',
    width: '8rem',
    sortable: true,
    cell: (c) => money(c),
    text: (c) => money(c),
  },
  {
    id: 'status',
    header: 'Status',
    width: '7rem',
    sortable: true,
    cell: (c) => <StatusBadge status={c.status} />,
    text: (c) => c.status,
  },
  {
    id: 'claimed_by',
    header: 'Claimed by',
    width: '9rem',
    cell: (c) => (c.status === 'claimed' ? (c.claimed_by ?? 'someone') : '—'),
    text: (c) => c.claimed_by ?? '',
  },
  {
    id: 'expires_at',
    header: 'Expires',
    width: '8rem',
    sortable: true,
    cell: (c) => (c.expires_at ? new Date(c.expires_at).toLocaleDateString() : '—'),
    text: (c) => c.expires_at ?? '',
  },
  {
    id: 'failure_reason',
    header: 'Failure',
    width: 'minmax(8rem, 1fr)',
    defaultHidden: true,
    cell: (c) => c.failure_reason ?? '—',
  },
  {
    id: 'tags',
    header: 'Tags',
    width: 'minmax(8rem, 1fr)',
    cell: (c) => <Tags tags={c.tags} inline />,
    text: (c) => c.tags,
  },
  {
    id: 'created_at',
    header: 'Added',
    width: '7rem',
    sortable: true,
    cell: (c) => ago(c.created_at),
    text: (c) => c.created_at,
  },
];

const BULK: BulkAction<CardRecord>[] = [
  {
    id: 'status',
    label: 'Enable / disable',
    input: {
      label: 'Status',
      options: [
        { value: 'disabled', label: 'disabled (kept back from claims)' },
        { value: 'available', label: 'available' },
      ],
    },
    run: async (rows, value, progress) => {
      const status = value as 'available' | 'disabled';
      const changing = rows.filter(
        (r) => (r.status === 'available' || r.status === 'disabled') && r.status !== status,
      );
      await runEach({
        items: changing,
        task: (r) => patchCard(r.id, { status }),
        onProgress: progress,
      });
      const skipped = rows.length - changing.length;
      return `Set ${changing.length} cards to ${status}${skipped ? `; ${skipped} left as they are (claimed, redeemed, failed or already so)` : ''}.`;
    },
  },
  ...tagActions<CardRecord>({ entity: 'cards', patchTags: (id, tags) => patchCard(id, { tags }) }),
  deleteAction<CardRecord>({
    entity: 'cards',
    remove: async (ids) => unwrap(await api.POST('/api/v1/cards/bulk-delete', { body: { ids } })),
    consequence: 'The cards and their codes are removed for good.',
  }),
];

export function CardList() {
  const [claiming, setClaiming] = useState(false);
  return (
    <>
      <PageHeader
        title="Cards"
        description="Redeemable cards. Codes are stored encrypted; lists show only their last characters."
        actions={
          <>
            <Button variant="secondary" onClick={() => setClaiming(true)}>
              Claim next card
            </Button>
            <Link
              href="/cards/import"
              className="rounded-md border border-zinc-300 px-3 py-2 text-sm font-medium hover:bg-zinc-50 dark:border-zinc-700 dark:hover:bg-zinc-800"
            >
              Import
            </Link>
            <Link
              href="/cards/new"
              className="rounded-md bg-indigo-600 px-3 py-2 text-sm font-medium text-white hover:bg-indigo-500"
            >
              New card
            </Link>
          </>
        }
      />
      <ClaimCardDialog open={claiming} onClose={() => setClaiming(false)} />
      <ResourceList<CardRecord>
        entity="cards"
        queryKey={cardKeys.all}
        fetchPage={fetchCardsPage}
        columns={COLUMNS}
        filters={FILTERS}
        defaultSort="-created_at"
        rowHref={(c) => `/cards/${c.id}`}
        bulkActions={BULK}
        searchPlaceholder="Search code ending, currency, notes… (press /)"
        exportAll={async (query, format) =>
          saveExport(
            await api.GET('/api/v1/cards/export', {
              params: {
                query: { ...(query as Omit<CardListQuery, 'limit'>), format, include_codes: false },
              },
              parseAs: 'blob',
            }),
            `cards.${format}`,
          )
        }
        empty={
          <EmptyState title="No cards yet">
            <Link href="/cards/import" className="text-indigo-600 underline dark:text-indigo-400">
              Import a list of codes
            </Link>{' '}
            or{' '}
            <Link href="/cards/new" className="text-indigo-600 underline dark:text-indigo-400">
              add one
            </Link>
            .
          </EmptyState>
        }
      />
    </>
  );
}
