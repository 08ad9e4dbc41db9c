'use client';

import Link from 'next/link';
import { useState } from 'react';
import { ResourceList } from '../../components/list/resource-list';
import type { Column, Filter } from '../../components/list/types';
import { Button, EmptyState, PageHeader, StatusBadge } from '../../components/ui';
import { useSession } from '../../lib/api';
import { ago } from '../../lib/time';
import { NewUserDialog } from './new-user-dialog';
import { fetchUsersPage, type User, userKeys } from './queries';

const FILTERS: Filter[] = [
  {
    name: 'role',
    label: 'Role',
    options: [
      { value: 'admin', label: 'admin' },
      { value: 'user', label: 'user' },
    ],
  },
  {
    name: 'is_active',
    label: 'Active',
    options: [
      { value: 'true', label: 'yes' },
      { value: 'false', label: 'deactivated' },
    ],
  },
];

const COLUMNS: Column<User>[] = [
  {
    id: 'username',
    header: 'Username',
    width: 'minmax(10rem, 1fr)',
    cell: (u) => (
      <Link
        href={`/admin/users/${u.id}`}
        className="font-medium text-indigo-700 hover:underline dark:text-indigo-300"
      >
        {u.username}
      </Link>
    ),
    text: (u) => u.username,
  },
  {
    id: 'email',
    header: 'E-mail',
    width: 'minmax(12rem, 1fr)',
    cell: (u) => u.email,
    text: (u) => u.email,
  },
  { id: 'role', header: 'Role', width: '6rem', cell: (u) => u.role, text: (u) => u.role },
  {
    id: 'is_active',
    header: 'State',
    width: '8rem',
    cell: (u) =>
      !u.is_active ? (
        <StatusBadge status="disabled" />
      ) : u.locked_until && new Date(u.locked_until).getTime() > Date.now() ? (
        <StatusBadge status="locked" />
      ) : (
        <StatusBadge status="active" />
      ),
    text: (u) => (u.is_active ? 'active' : 'deactivated'),
  },
  {
    id: 'last_login_at',
    header: 'Last login',
    width: '8rem',
    cell: (u) => ago(u.last_login_at),
    text: (u) => u.last_login_at ?? '',
  },
  {
    id: 'created_at',
    header: 'Created',
    width: '8rem',
    cell: (u) => ago(u.created_at),
    text: (u) => u.created_at,
  },
];

/** Admins: every user with role and state; "New user"; a row opens the user's page. */
export function UserList() {
  const session = useSession();
  const [creating, setCreating] = useState(false);
  if (session?.user.role !== 'admin') {
    return <EmptyState title="Only administrators can manage users." />;
  }
  return (
    <>
      <PageHeader
        title="Users"
        description="Who can log in, and with which role. Each user sees only their own inventory. Admins too see their own by default, and everyone's only after choosing All users (scope=all in the API), with an owner column and filter; revealing another user's secret or 2FA code asks for a reason, which is audited and shows in that user's own audit log."
        actions={<Button onClick={() => setCreating(true)}>New user</Button>}
      />
      <NewUserDialog open={creating} onClose={() => setCreating(false)} />
      <ResourceList<User>
        scoped={false}
        entity="users"
        queryKey={userKeys.all}
        fetchPage={fetchUsersPage}
        columns={COLUMNS}
        filters={FILTERS}
        taggable={false}
        defaultSort=""
        rowHref={(u) => `/admin/users/${u.id}`}
        searchPlaceholder="Search username or e-mail… (press /)"
        empty={<EmptyState title="No users" />}
      />
    </>
  );
}
