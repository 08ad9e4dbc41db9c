'use client';

import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { toast } from 'sonner';
import { ApiError, problemMessage } from '../../api/problem';
import { DeleteButton } from '../../components/delete-button';
import { ConfirmDialog, Dialog } from '../../components/dialog';
import {
  Button,
  Card,
  DetailList,
  EmptyState,
  Field,
  PageHeader,
  StatusBadge,
} from '../../components/ui';
import { api, unwrap, useSession } from '../../lib/api';
import { password as passwordRule } from '../../lib/forms';
import { ago } from '../../lib/time';
import { UserMfaCard } from '../mfa/admin-mfa';
import { patchUser, type UserPatch, userKeys, useUser } from './queries';

type Pending = 'role' | 'deactivate' | 'activate' | 'password' | null;

/** Admins: one user's role and state, with password reset, unlock, deactivation and deletion. */
export function UserDetail({ id }: { id: string }) {
  const session = useSession();
  const query = useUser(id);
  const queryClient = useQueryClient();
  const [pending, setPending] = useState<Pending>(null);
  const [busy, setBusy] = useState(false);
  const [newPassword, setNewPassword] = useState('');
  const [passwordError, setPasswordError] = useState<string | null>(null);

  if (session?.user.role !== 'admin')
    return <EmptyState title="Only administrators can manage users." />;
  if (query.isPending) return <p className="text-sm text-zinc-500">Loading…</p>;
  if (query.isError) {
    return (
      <EmptyState title="User not found">
        <Link href="/admin/users" className="text-indigo-600 underline dark:text-indigo-400">
          Back to users
        </Link>
      </EmptyState>
    );
  }
  const user = query.data;
  const self = session.user.id === user.id;
  const locked = user.locked_until !== null && new Date(user.locked_until).getTime() > Date.now();

  const change = async (body: UserPatch, done: string) => {
    setBusy(true);
    try {
      await patchUser(id, body);
      toast.success(done);
      await queryClient.invalidateQueries({ queryKey: userKeys.all });
      setPending(null);
      setNewPassword('');
    } catch (error) {
      // Last-admin protection and the like come back as problems: say what the API said.
      toast.error(
        error instanceof ApiError ? problemMessage(error.problem, error.message) : String(error),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="space-y-4">
      <PageHeader
        title={
          <span className="flex items-center gap-3">
            {user.username}
            <StatusBadge status={!user.is_active ? 'disabled' : locked ? 'locked' : 'active'} />
          </span>
        }
        description={
          <>
            <Link href="/admin/users" className="hover:underline">
              Users
            </Link>{' '}
            / {user.role}
            {self ? ' (you)' : ''}
          </>
        }
      />
      <div className="grid gap-4 lg:grid-cols-2">
        <Card title="Details">
          <DetailList
            items={[
              ['E-mail', user.email],
              ['Role', user.role],
              ['Active', user.is_active ? 'yes' : 'no: cannot log in'],
              ['Failed logins', String(user.failed_login_count)],
              [
                'Locked until',
                locked ? new Date(user.locked_until as string).toLocaleString() : 'not locked',
              ],
              ['Last login', ago(user.last_login_at)],
              ['Created', ago(user.created_at)],
            ]}
          />
        </Card>
        <UserMfaCard id={id} username={user.username} />
        <Card title="Manage">
          <div className="flex flex-wrap gap-2">
            <Button variant="secondary" disabled={self} onClick={() => setPending('role')}>
              {user.role === 'admin' ? 'Make user' : 'Make admin'}
            </Button>
            <Button variant="secondary" onClick={() => setPending('password')}>
              Reset password
            </Button>
            {locked ? (
              <Button
                variant="secondary"
                disabled={busy}
                onClick={() => change({ unlock: true }, 'Unlocked.')}
              >
                Unlock
              </Button>
            ) : null}
            {user.is_active ? (
              <Button variant="secondary" disabled={self} onClick={() => setPending('deactivate')}>
                Deactivate
              </Button>
            ) : (
              <Button variant="secondary" onClick={() => setPending('activate')}>
                Reactivate
              </Button>
            )}
            <DeleteButton
              disabled={self}
              title={`Delete ${user.username}?`}
              message="The user and everything they own (accounts, hardware, cards, VMs, nodes) are deleted for good. Deactivate instead to keep their data."
              confirmLabel="Delete user and data"
              done={`Deleted ${user.username} and everything they owned.`}
              remove={async () =>
                unwrap(await api.DELETE('/api/v1/users/{id}', { params: { path: { id } } }))
              }
              listHref="/admin/users"
              queryKeys={{ list: userKeys.all, one: userKeys.one(id) }}
            />
          </div>
          {self ? (
            <p className="mt-3 text-xs text-zinc-500">
              You cannot change your own role, deactivate or delete yourself; change your password
              in Settings.
            </p>
          ) : null}
        </Card>
      </div>

      <ConfirmDialog
        open={pending === 'role'}
        title={
          user.role === 'admin'
            ? `Make ${user.username} a user?`
            : `Make ${user.username} an admin?`
        }
        message={
          user.role === 'admin'
            ? 'They keep their own data but can no longer manage users or see other users’ data. Their sessions end.'
            : 'Admins manage users and can see and change every user’s data, after choosing All users; revealing another user’s secret asks for a reason that user sees.'
        }
        confirmLabel={user.role === 'admin' ? 'Make user' : 'Make admin'}
        busy={busy}
        onConfirm={() =>
          change({ role: user.role === 'admin' ? 'user' : 'admin' }, 'Role changed.')
        }
        onCancel={() => setPending(null)}
      />
      <ConfirmDialog
        open={pending === 'deactivate'}
        title={`Deactivate ${user.username}?`}
        message="They cannot log in and their open sessions end at once. Their data stays; reactivate them any time."
        confirmLabel="Deactivate"
        busy={busy}
        onConfirm={() => change({ is_active: false }, 'Deactivated.')}
        onCancel={() => setPending(null)}
      />
      <ConfirmDialog
        open={pending === 'activate'}
        title={`Reactivate ${user.username}?`}
        message="They can log in again."
        confirmLabel="Reactivate"
        busy={busy}
        onConfirm={() => change({ is_active: true }, 'Reactivated.')}
        onCancel={() => setPending(null)}
      />
      <Dialog
        open={pending === 'password'}
        onClose={() => setPending(null)}
        title={`New password for ${user.username}`}
        footer={
          <>
            <Button variant="ghost" onClick={() => setPending(null)} disabled={busy}>
              Cancel
            </Button>
            <Button
              disabled={busy}
              onClick={() => {
                const checked = passwordRule.safeParse(newPassword);
                if (!checked.success) {
                  setPasswordError(checked.error.issues[0]?.message ?? 'Not a valid password.');
                  return;
                }
                setPasswordError(null);
                void change({ password: newPassword }, 'Password set; their sessions have ended.');
              }}
            >
              Set password
            </Button>
          </>
        }
      >
        <p className="mb-3">
          Their sessions end and a login lockout is cleared. Give them the password over a safe
          channel.
        </p>
        <Field
          label="New password"
          type="password"
          autoComplete="new-password"
          value={newPassword}
          onChange={(event) => setNewPassword(event.target.value)}
          error={passwordError ?? undefined}
        />
      </Dialog>
    </div>
  );
}
