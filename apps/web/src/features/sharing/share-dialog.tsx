'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useState } from 'react';
import { ApiError, problemMessage } from '../../api/problem';
import { Dialog } from '../../components/dialog';
import { Button, Field, SelectField } from '../../components/ui';
import {
  type Grant,
  type GrantObjectType,
  grantKeys,
  type SharingApi,
  sharingApi,
} from './queries';

const PERMISSIONS = [
  { value: 'read', label: 'Read' },
  { value: 'write', label: 'Read-write' },
];

const errorText = (error: unknown) =>
  error instanceof ApiError ? problemMessage(error.problem, error.message) : String(error);

/**
 * The shares of one of your objects: who it is shared with (read or read-write, and for an
 * account whether with its secrets), add a user by username, change or revoke a share. Each
 * change is one request; the grantee sees it at their next request.
 */
export function SharePanel({
  objectType,
  objectId,
  sharing = sharingApi,
}: {
  objectType: GrantObjectType;
  objectId: string;
  sharing?: SharingApi;
}) {
  const queryClient = useQueryClient();
  const grants = useQuery({
    queryKey: grantKeys.object(objectId),
    queryFn: () => sharing.list(objectId),
  });
  const [grantee, setGrantee] = useState('');
  const [permission, setPermission] = useState<'read' | 'write'>('read');
  const [secrets, setSecrets] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const isAccount = objectType === 'account';

  const run = async (work: () => Promise<unknown>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
      await queryClient.invalidateQueries({ queryKey: grantKeys.all });
      return true;
    } catch (err) {
      setError(errorText(err));
      return false;
    } finally {
      setBusy(false);
    }
  };

  const add = async (event?: FormEvent) => {
    event?.preventDefault();
    const name = grantee.trim();
    if (name.length < 3) {
      setError('Type the username of the user to share with.');
      return;
    }
    const ok = await run(() =>
      sharing.create({
        object_type: objectType,
        object_id: objectId,
        grantee: name,
        permission,
        ...(isAccount ? { secrets } : {}),
      }),
    );
    if (ok) {
      setGrantee('');
      setSecrets(false);
      setPermission('read');
    }
  };

  const items: Grant[] = grants.data ?? [];
  return (
    <div className="space-y-4">
      {grants.isPending ? (
        <p className="text-zinc-500">Loading shares…</p>
      ) : grants.isError ? (
        <p role="alert" className="text-red-600">
          {errorText(grants.error)}
        </p>
      ) : items.length === 0 ? (
        <p className="text-zinc-500">Not shared with anyone.</p>
      ) : (
        <ul className="divide-y divide-zinc-200 dark:divide-zinc-800" aria-label="Shared with">
          {items.map((g) => (
            <li key={g.id} className="flex flex-wrap items-center gap-2 py-2" data-testid="grant">
              <span className="min-w-24 flex-1 font-medium">{g.grantee.username}</span>
              <label className="sr-only" htmlFor={`perm-${g.id}`}>
                Permission of {g.grantee.username}
              </label>
              <select
                id={`perm-${g.id}`}
                value={g.permission}
                disabled={busy}
                onChange={(e) =>
                  run(() =>
                    sharing.update(g.id, { permission: e.target.value as 'read' | 'write' }),
                  )
                }
                className="rounded-md border border-zinc-300 bg-white px-2 py-1 text-sm dark:border-zinc-700 dark:bg-zinc-900"
              >
                {PERMISSIONS.map((p) => (
                  <option key={p.value} value={p.value}>
                    {p.label}
                  </option>
                ))}
              </select>
              {isAccount ? (
                <label className="flex items-center gap-1 text-sm">
                  <input
                    type="checkbox"
                    checked={g.secrets}
                    disabled={busy}
                    onChange={(e) => run(() => sharing.update(g.id, { secrets: e.target.checked }))}
                    aria-label={`${g.grantee.username} can see secrets`}
                  />
                  secrets
                </label>
              ) : null}
              <Button
                variant="ghost"
                disabled={busy}
                onClick={() => run(() => sharing.remove(g.id))}
                aria-label={`Revoke ${g.grantee.username}'s share`}
              >
                Revoke
              </Button>
            </li>
          ))}
        </ul>
      )}
      <form onSubmit={add} className="space-y-3 border-t border-zinc-200 pt-3 dark:border-zinc-800">
        <Field
          label="Share with (username)"
          value={grantee}
          onChange={(e) => setGrantee(e.target.value)}
          maxLength={64}
          autoComplete="off"
        />
        <SelectField
          label="Permission"
          value={permission}
          options={PERMISSIONS}
          onChange={(e) => setPermission(e.target.value as 'read' | 'write')}
        />
        {isAccount ? (
          <label className="flex items-center gap-2 text-sm">
            <input
              type="checkbox"
              checked={secrets}
              onChange={(e) => setSecrets(e.target.checked)}
            />
            Can see secrets (password, 2FA secrets and live codes)
          </label>
        ) : null}
        {error ? (
          <p role="alert" className="text-sm text-red-600 dark:text-red-400">
            {error}
          </p>
        ) : null}
        <Button type="submit" disabled={busy}>
          Share
        </Button>
      </form>
    </div>
  );
}

const WHAT: Record<GrantObjectType, string> = {
  proxmox_node: 'The user sees the node and every VM on it. Its agent key is never shared.',
  vm: 'The user sees this VM.',
  account: 'The user sees this account; its password and 2FA secrets only with "can see secrets".',
};

/** The "Share" button of a detail page (your own objects only) and its dialog. */
export function ShareButton({
  objectType,
  objectId,
  name,
  sharing,
}: {
  objectType: GrantObjectType;
  objectId: string;
  name: string;
  sharing?: SharingApi;
}) {
  const [open, setOpen] = useState(false);
  return (
    <>
      <Button variant="secondary" onClick={() => setOpen(true)}>
        Share
      </Button>
      <Dialog
        open={open}
        onClose={() => setOpen(false)}
        title={`Share ${name}`}
        footer={
          <Button variant="secondary" onClick={() => setOpen(false)}>
            Done
          </Button>
        }
      >
        <p className="mb-3 text-zinc-600 dark:text-zinc-400">
          {WHAT[objectType]} Read-write lets them change it, never delete or share it.
        </p>
        {open ? (
          <SharePanel
            objectType={objectType}
            objectId={objectId}
            {...(sharing ? { sharing } : {})}
          />
        ) : null}
      </Dialog>
    </>
  );
}
