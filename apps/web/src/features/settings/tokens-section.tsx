'use client';

import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { toast } from 'sonner';
import type { ApiClient } from '../../api/client';
import { ApiError, problemMessage } from '../../api/problem';
import type { components } from '../../api/schema';
import { copyText } from '../../components/copy-button';
import { ConfirmDialog, Dialog } from '../../components/dialog';
import { Button, Field, SelectField } from '../../components/ui';
import { unwrap } from '../../lib/api';
import { ago } from '../../lib/time';

type ApiToken = components['schemas']['ApiToken'];
const tokenKeys = { all: ['tokens'] as const };

/**
 * Personal access tokens for scripts: the list (never the tokens themselves), "Create token"
 * (the token is shown once, to copy), and revoke.
 */
export function TokensSection({ api }: { api: ApiClient }) {
  const queryClient = useQueryClient();
  const tokens = useQuery({
    queryKey: tokenKeys.all,
    queryFn: async () => unwrap(await api.GET('/api/v1/tokens')).items,
  });
  const [creating, setCreating] = useState(false);
  const [name, setName] = useState('');
  const [scope, setScope] = useState<'read' | 'write'>('read');
  const [days, setDays] = useState('90');
  const [error, setError] = useState<string | null>(null);
  const [created, setCreated] = useState<string | null>(null);
  const [revoking, setRevoking] = useState<ApiToken | null>(null);
  const [busy, setBusy] = useState(false);

  const closeCreate = () => {
    setCreating(false);
    setCreated(null);
    setName('');
    setError(null);
  };
  const create = async () => {
    if (!name.trim()) return setError('Name what the token is for.');
    if (name.trim().length > 100) return setError('At most 100 characters.');
    if (days && (!/^\d+$/.test(days) || Number(days) < 1 || Number(days) > 3650))
      return setError('Expiry: 1 to 3650 days, or empty for never.');
    setBusy(true);
    setError(null);
    try {
      const answer = unwrap(
        await api.POST('/api/v1/tokens', {
          body: {
            name: name.trim(),
            scopes: scope === 'write' ? ['read', 'write'] : ['read'],
            ...(days ? { expires_in_days: Number(days) } : {}),
          },
        }),
      );
      setCreated(answer.token);
      await queryClient.invalidateQueries({ queryKey: tokenKeys.all });
    } catch (err) {
      setError(err instanceof ApiError ? problemMessage(err.problem, err.message) : String(err));
    } finally {
      setBusy(false);
    }
  };
  const revoke = async (token: ApiToken) => {
    setBusy(true);
    try {
      unwrap(await api.DELETE('/api/v1/tokens/{id}', { params: { path: { id: token.id } } }));
      toast.success(`Revoked ${token.name}.`);
      await queryClient.invalidateQueries({ queryKey: tokenKeys.all });
    } catch (err) {
      toast.error(err instanceof ApiError ? problemMessage(err.problem, err.message) : String(err));
    } finally {
      setBusy(false);
      setRevoking(null);
    }
  };

  return (
    <div className="space-y-3">
      <div className="flex items-center justify-between gap-2">
        <p className="text-sm text-zinc-500">
          For scripts and tools: send as <code>Authorization: Bearer adb_pat_…</code>. Read tokens
          can only read.
        </p>
        <Button onClick={() => setCreating(true)}>Create token</Button>
      </div>
      {tokens.isPending ? (
        <p className="text-sm text-zinc-500">Loading…</p>
      ) : tokens.isError ? (
        <p className="text-sm text-red-600">The tokens could not be loaded.</p>
      ) : tokens.data.length === 0 ? (
        <p className="text-sm text-zinc-500">No tokens yet.</p>
      ) : (
        <div className="overflow-x-auto">
          <table className="w-full text-left text-sm">
            <thead className="text-xs text-zinc-500 uppercase">
              <tr>
                <th scope="col" className="py-2 pr-3">
                  Name
                </th>
                <th scope="col" className="py-2 pr-3">
                  Token
                </th>
                <th scope="col" className="py-2 pr-3">
                  Scopes
                </th>
                <th scope="col" className="py-2 pr-3">
                  Expires
                </th>
                <th scope="col" className="py-2 pr-3">
                  Last used
                </th>
                <th scope="col" className="py-2" />
              </tr>
            </thead>
            <tbody>
              {tokens.data.map((t) => (
                <tr key={t.id} className="border-t border-zinc-100 dark:border-zinc-800">
                  <td className="py-2 pr-3 font-medium">{t.name}</td>
                  <td className="py-2 pr-3 font-mono text-xs">{t.prefix}…</td>
                  <td className="py-2 pr-3">{t.scopes.join(', ')}</td>
                  <td className="py-2 pr-3">
                    {t.expires_at ? new Date(t.expires_at).toLocaleDateString() : 'never'}
                  </td>
                  <td className="py-2 pr-3">
                    {ago(t.last_used_at)}
                    {t.last_used_ip ? ` from ${t.last_used_ip}` : ''}
                  </td>
                  <td className="py-2 text-right">
                    <Button
                      variant="ghost"
                      className="px-2 py-1 text-xs"
                      onClick={() => setRevoking(t)}
                    >
                      Revoke
                    </Button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <Dialog
        open={creating}
        onClose={closeCreate}
        title={created ? 'Your new token' : 'Create token'}
        footer={
          created ? (
            <Button onClick={closeCreate}>I have saved the token</Button>
          ) : (
            <>
              <Button variant="ghost" onClick={closeCreate} disabled={busy}>
                Cancel
              </Button>
              <Button onClick={create} disabled={busy}>
                {busy ? 'Creating…' : 'Create'}
              </Button>
            </>
          )
        }
      >
        {created ? (
          <div className="space-y-3">
            <p
              role="alert"
              className="rounded-md bg-amber-50 p-2 text-amber-900 dark:bg-amber-950/50 dark:text-amber-200"
            >
              Copy it now: it is shown only once. AccountDB keeps only its hash.
            </p>
            <div className="flex flex-wrap items-center gap-2">
              <code
                data-testid="new-token"
                className="flex-1 rounded bg-zinc-100 px-2 py-1 font-mono break-all dark:bg-zinc-800"
              >
                {created}
              </code>
              <Button variant="secondary" onClick={() => copyText(created, { what: 'token' })}>
                Copy token
              </Button>
            </div>
          </div>
        ) : (
          <form
            className="space-y-3"
            onSubmit={(event) => {
              event.preventDefault();
              void create();
            }}
          >
            <Field
              label="Name"
              placeholder="e.g. claim worker"
              value={name}
              onChange={(e) => setName(e.target.value)}
            />
            <SelectField
              label="Access"
              value={scope}
              onChange={(e) => setScope(e.target.value as 'read' | 'write')}
              options={[
                { value: 'read', label: 'read: GET requests only' },
                { value: 'write', label: 'read and write: everything you can do' },
              ]}
            />
            <Field
              label="Expires after (days)"
              hint="Empty: never."
              inputMode="numeric"
              value={days}
              onChange={(e) => setDays(e.target.value)}
            />
            {error ? (
              <p role="alert" className="text-sm text-red-600 dark:text-red-400">
                {error}
              </p>
            ) : null}
            <button type="submit" className="sr-only">
              Create
            </button>
          </form>
        )}
      </Dialog>
      <ConfirmDialog
        open={revoking !== null}
        title={`Revoke ${revoking?.name ?? ''}?`}
        message="Scripts using it stop working at once."
        confirmLabel="Revoke token"
        busy={busy}
        onConfirm={() => revoking && revoke(revoking)}
        onCancel={() => setRevoking(null)}
      />
    </div>
  );
}
