'use client';

import { useQuery } from '@tanstack/react-query';
import Link from 'next/link';
import { useEffect, useId, useRef, useState } from 'react';
import { Button, cx } from '../../components/ui';
import { api, unwrap } from '../../lib/api';

/**
 * Picks the account a VM, hardware profile or card belongs to: shows the current one (a link)
 * and searches the user's accounts by username, e-mail or external id as they type.
 */
export function AccountPicker({
  accountId,
  onChange,
  label = 'Account',
}: {
  accountId: string | null;
  onChange: (accountId: string | null) => Promise<unknown>;
  label?: string;
}) {
  const [term, setTerm] = useState('');
  const [debounced, setDebounced] = useState('');
  const [open, setOpen] = useState(false);
  const [busy, setBusy] = useState(false);
  const id = useId();
  const input = useRef<HTMLInputElement>(null);
  useEffect(() => {
    if (open) input.current?.focus();
  }, [open]);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(term.trim()), 250);
    return () => clearTimeout(timer);
  }, [term]);

  const current = useQuery({
    queryKey: ['accounts', 'one', accountId, 'name'],
    enabled: accountId !== null,
    queryFn: async () =>
      unwrap(
        await api.GET('/api/v1/accounts/{id}', { params: { path: { id: accountId as string } } }),
      ),
  });
  const found = useQuery({
    queryKey: ['accounts', 'pick', debounced],
    enabled: open && debounced.length >= 1,
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/accounts', { params: { query: { q: debounced, limit: 8 } } }))
        .items,
  });

  const choose = async (next: string | null) => {
    setBusy(true);
    try {
      await onChange(next);
      setOpen(false);
      setTerm('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="space-y-2 text-sm">
      <div className="flex flex-wrap items-center gap-2">
        <span className="font-medium text-zinc-500">{label}:</span>
        {accountId === null ? (
          <span className="text-zinc-500">none</span>
        ) : current.data ? (
          <Link
            href={`/accounts/${accountId}`}
            className="text-indigo-700 hover:underline dark:text-indigo-300"
          >
            {current.data.username} ({current.data.service})
          </Link>
        ) : (
          <span className="text-zinc-500">…</span>
        )}
        {open ? null : (
          <Button variant="secondary" className="px-2 py-1 text-xs" onClick={() => setOpen(true)}>
            {accountId ? 'Change account' : 'Assign account'}
          </Button>
        )}
        {accountId && !open ? (
          <Button
            variant="ghost"
            className="px-2 py-1 text-xs"
            disabled={busy}
            onClick={() => choose(null)}
          >
            Unassign
          </Button>
        ) : null}
      </div>
      {open ? (
        <div className="relative max-w-md">
          <label htmlFor={id} className="sr-only">
            Find an account
          </label>
          <input
            id={id}
            ref={input}
            value={term}
            onChange={(event) => setTerm(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Escape') setOpen(false);
            }}
            placeholder="Find an account by username, e-mail, external id…"
            className="w-full rounded-md border border-zinc-300 bg-white px-2.5 py-1.5 dark:border-zinc-700 dark:bg-zinc-900"
          />
          <ul
            className="mt-1 rounded-md border border-zinc-200 dark:border-zinc-800"
            aria-label="Matching accounts"
          >
            {(found.data ?? []).map((account) => (
              <li key={account.id}>
                <button
                  type="button"
                  disabled={busy}
                  onClick={() => choose(account.id)}
                  className={cx(
                    'flex w-full justify-between gap-2 px-3 py-1.5 text-left hover:bg-indigo-50 dark:hover:bg-indigo-950',
                    account.id === accountId && 'font-semibold',
                  )}
                >
                  <span>{account.username}</span>
                  <span className="text-xs text-zinc-500">{account.service}</span>
                </button>
              </li>
            ))}
            {debounced && found.data?.length === 0 ? (
              <li className="px-3 py-1.5 text-zinc-500">No account matches.</li>
            ) : null}
          </ul>
          <Button variant="ghost" className="mt-1 px-2 py-1 text-xs" onClick={() => setOpen(false)}>
            Cancel
          </Button>
        </div>
      ) : null}
    </div>
  );
}
