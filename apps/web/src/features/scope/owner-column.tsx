'use client';

import { useQuery } from '@tanstack/react-query';
import type { Column, Filter } from '../../components/list/types';
import { fetchUsersPage } from '../users/queries';
import type { Owner } from './owner-banner';

/**
 * The owner of a row under "All users": the API's owner, else (audit entries, which carry
 * only owner_id) the username the owner filter's user list knows, else the id. An entry about
 * no known user (a failed login with an unknown name) has none.
 */
function ownerText(
  row: { owner?: Owner; owner_id?: string | null },
  names: ReadonlyMap<string, string>,
): string {
  if (row.owner) return row.owner.username;
  if (!row.owner_id) return '—';
  return names.get(row.owner_id) ?? row.owner_id;
}

/**
 * The column an admin's "All users" scope adds in front of every list; `names` maps user ids
 * to usernames for rows that carry only an owner_id.
 */
export function ownerColumn<T>(names: ReadonlyMap<string, string> = new Map()): Column<T> {
  return {
    id: 'owner',
    header: 'Owner',
    width: 'minmax(7rem, 1fr)',
    cell: (row) => <span data-testid="owner-cell">{ownerText(row as never, names)}</span>,
    text: (row) => ownerText(row as never, names),
  };
}

/** The owner filter of "All users": a select of the users (the first 500 by name). */
export function useOwnerFilter(enabled: boolean): Filter | null {
  const users = useQuery({
    queryKey: ['users', 'owner-options'],
    queryFn: () => fetchUsersPage({ query: {}, limit: 500 }),
    enabled,
    staleTime: 60_000,
  });
  if (!enabled) return null;
  return {
    name: 'owner_id',
    label: 'Owner',
    options: (users.data?.items ?? []).map((u) => ({ value: u.id, label: u.username })),
  };
}
