'use client';

import Link from 'next/link';
import { useState } from 'react';
import type { paths } from '../../api/schema';
import { Dialog } from '../../components/dialog';
import { ResourceList } from '../../components/list/resource-list';
import type { ApiListQuery, Column, Filter } from '../../components/list/types';
import { Button, EmptyState, PageHeader } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { ago } from '../../lib/time';

type AuditQuery = NonNullable<paths['/api/v1/audit']['get']['parameters']['query']>;
export type AuditEntry =
  paths['/api/v1/audit']['get']['responses'][200]['content']['application/json']['items'][number];

const ENTITY_PAGES: Record<string, string> = {
  account: '/accounts',
  card: '/cards',
  hardware: '/hardware',
  vm: '/vms',
  proxmox_node: '/nodes',
};

/** The page of the entity an entry is about, where it has one. */
export function entityHref(entry: Pick<AuditEntry, 'entity_type' | 'entity_id'>): string | null {
  const base = entry.entity_type ? ENTITY_PAGES[entry.entity_type] : undefined;
  return base && entry.entity_id ? `${base}/${entry.entity_id}` : null;
}

const FILTERS: Filter[] = [
  {
    name: 'action',
    label: 'Action',
    options: [
      ['account.', 'accounts'],
      ['account.reveal_secrets', 'secret reveals'],
      ['account.claim', 'account claims'],
      ['card.', 'cards'],
      ['card.claim', 'card claims'],
      ['hardware.', 'hardware'],
      ['vm.', 'VMs'],
      ['proxmox_node.', 'nodes'],
      ['agent.', 'agent syncs'],
      ['auth.', 'logins and sessions'],
      ['user.', 'users'],
      ['api_token.', 'tokens'],
    ].map(([value, label]) => ({ value: value as string, label: label as string })),
  },
  { name: 'since', label: 'From', kind: 'date', options: [] },
  { name: 'until', label: 'To', kind: 'date', options: [] },
];

/** Audit query from the URL's filters: dates become the start of their day (since) or end (until). */
export function auditQuery(query: ApiListQuery): Omit<AuditQuery, 'limit'> {
  const out: Record<string, string> = {};
  for (const name of ['action', 'entity_type', 'entity_id', 'actor_id', 'owner_id'] as const) {
    const value = query[name];
    if (typeof value === 'string' && value) out[name] = value;
  }
  // An admin's "All users" scope (else their own entries: about their data, or by them).
  if (query.scope === 'all') out.scope = 'all';
  if (typeof query.since === 'string' && query.since)
    out.since = new Date(`${query.since}T00:00:00`).toISOString();
  if (typeof query.until === 'string' && query.until)
    out.until = new Date(`${query.until}T23:59:59.999`).toISOString();
  return out;
}

/**
 * What an entry is about: the entity's kind and its name today ("account farm_01"), or the
 * tail of its id when it has none (deleted since, or nothing to name).
 */
export function entityLabel(
  entry: Pick<AuditEntry, 'entity_type' | 'entity_id' | 'entity_name'>,
): string {
  if (!entry.entity_type) return '—';
  const kind = entry.entity_type.replace('_', ' ');
  if (entry.entity_name) return `${kind} ${entry.entity_name}`;
  return entry.entity_id ? `${kind} …${entry.entity_id.slice(-6)}` : kind;
}

function summary(details: Record<string, unknown>): string {
  return Object.entries(details)
    .filter(([, v]) => v !== null && v !== undefined && typeof v !== 'object')
    .slice(0, 4)
    .map(([k, v]) => `${k}: ${String(v)}`)
    .join(', ');
}

export function AuditList() {
  const [open, setOpen] = useState<AuditEntry | null>(null);
  const columns: Column<AuditEntry>[] = [
    {
      id: 'at',
      header: 'When',
      width: '8rem',
      cell: (e) => (
        <time dateTime={e.at} title={new Date(e.at).toLocaleString()}>
          {ago(e.at)}
        </time>
      ),
      text: (e) => e.at,
    },
    {
      id: 'actor',
      header: 'Who',
      width: '10rem',
      cell: (e) =>
        `${e.actor_name ?? e.actor_type}${e.actor_type === 'token' ? ' (token)' : e.actor_type === 'node' ? ' (agent)' : ''}`,
      text: (e) => e.actor_name ?? e.actor_type,
    },
    {
      id: 'action',
      header: 'Action',
      width: 'minmax(11rem, 1fr)',
      cell: (e) => <code className="text-xs">{e.action}</code>,
      text: (e) => e.action,
    },
    {
      id: 'entity',
      header: 'About',
      width: 'minmax(9rem, 1fr)',
      cell: (e) => {
        const href = entityHref(e);
        const label = entityLabel(e);
        return href ? (
          <Link href={href} className="text-indigo-700 hover:underline dark:text-indigo-300">
            {label}
          </Link>
        ) : (
          label
        );
      },
      text: (e) => `${entityLabel(e)} ${e.entity_id ?? ''}`.trim(),
    },
    {
      id: 'details',
      header: 'Details',
      width: 'minmax(12rem, 2fr)',
      cell: (e) => summary(e.details) || '—',
      text: (e) => JSON.stringify(e.details),
    },
    {
      id: 'ip',
      header: 'Address',
      width: '8rem',
      cell: (e) => e.ip ?? '—',
      text: (e) => e.ip ?? '',
    },
    {
      id: 'request_id',
      header: 'Request id',
      width: '18rem',
      defaultHidden: true,
      cell: (e) => <code className="text-xs">{e.request_id ?? '—'}</code>,
    },
    {
      id: 'open',
      header: '',
      width: '5rem',
      cell: (e) => (
        <Button variant="ghost" className="px-2 py-0.5 text-xs" onClick={() => setOpen(e)}>
          Details
        </Button>
      ),
    },
  ];
  return (
    <>
      <PageHeader
        title="Audit log"
        description="Who did what and when: every change, reveal, claim, export and login. Never a secret."
      />
      <ResourceList<AuditEntry>
        entity="entries"
        queryKey={['audit']}
        searchable={false}
        taggable={false}
        fetchPage={async ({ query, cursor, limit }) =>
          unwrap(
            await api.GET('/api/v1/audit', {
              params: { query: { ...auditQuery(query), limit, ...(cursor ? { cursor } : {}) } },
            }),
          )
        }
        columns={columns}
        filters={FILTERS}
        defaultSort=""
        rowHref={entityHref}
        empty={<EmptyState title="Nothing recorded yet" />}
      />
      <Dialog
        open={open !== null}
        onClose={() => setOpen(null)}
        title={open?.action ?? ''}
        wide
        footer={<Button onClick={() => setOpen(null)}>Close</Button>}
      >
        {open ? (
          <div className="space-y-2">
            <p className="text-zinc-500">
              {new Date(open.at).toLocaleString()} · {open.actor_type} {open.actor_name ?? ''} ·{' '}
              {open.ip ?? 'no address'} · request {open.request_id ?? '—'}
            </p>
            <pre className="max-h-96 overflow-auto rounded bg-zinc-950 p-3 text-xs text-zinc-100">
              {JSON.stringify(open.details, null, 2)}
            </pre>
          </div>
        ) : null}
      </Dialog>
    </>
  );
}
