'use client';

import Link from 'next/link';
import { ApiError, problemMessage } from '../../api/problem';
import { EmptyState, PageHeader } from '../../components/ui';
import { ago } from '../../lib/time';
import { type Grant, useReceivedGrants } from './queries';

const HREF: Record<Grant['object_type'], (id: string) => string> = {
  proxmox_node: (id) => `/nodes/${id}`,
  vm: (id) => `/vms/${id}`,
  account: (id) => `/accounts/${id}`,
};
const KIND: Record<Grant['object_type'], string> = {
  proxmox_node: 'Proxmox node (and its VMs)',
  vm: 'VM',
  account: 'Account',
};

/** What other users shared with you, newest first, each a link to the object. */
export function SharedWithMeList({ grants }: { grants: Grant[] }) {
  if (grants.length === 0) {
    return (
      <EmptyState title="Nothing is shared with you">
        When another user shares a node, a VM or an account with you, it shows here and in your
        lists, marked "Shared by".
      </EmptyState>
    );
  }
  return (
    <table className="w-full text-left text-sm">
      <thead>
        <tr className="border-b border-zinc-200 dark:border-zinc-800">
          <th className="py-2">Object</th>
          <th>Kind</th>
          <th>Shared by</th>
          <th>Permission</th>
          <th>Since</th>
        </tr>
      </thead>
      <tbody>
        {grants.map((g) => (
          <tr
            key={g.id}
            className="border-b border-zinc-100 dark:border-zinc-900"
            data-testid="received-grant"
          >
            <td className="py-2">
              <Link
                href={HREF[g.object_type](g.object_id)}
                className="font-medium text-indigo-700 hover:underline dark:text-indigo-300"
              >
                {g.object_name ?? g.object_id}
              </Link>
            </td>
            <td>{KIND[g.object_type]}</td>
            <td>{g.owner.username}</td>
            <td>
              {g.permission === 'write' ? 'read-write' : 'read-only'}
              {g.object_type === 'account' ? (g.secrets ? ', with secrets' : ', no secrets') : ''}
            </td>
            <td>{ago(g.created_at)}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SharedWithMe() {
  const grants = useReceivedGrants();
  return (
    <>
      <PageHeader
        title="Shared with me"
        description="Nodes, VMs and accounts other users shared with you. Their lists show them too (filter Shared → Shared with me)."
      />
      {grants.isPending ? (
        <p className="text-zinc-500">Loading…</p>
      ) : grants.isError ? (
        <p role="alert" className="text-red-600">
          {grants.error instanceof ApiError
            ? problemMessage(grants.error.problem, grants.error.message)
            : String(grants.error)}
        </p>
      ) : (
        <SharedWithMeList grants={grants.data} />
      )}
    </>
  );
}
