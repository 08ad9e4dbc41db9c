'use client';

import { useQuery } from '@tanstack/react-query';
import { type FormEvent, type ReactNode, useId, useState } from 'react';
import { Button, cx } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import {
  isMac,
  isUuid,
  LOOKUPS,
  type Lookup,
  MAC_HINT,
  type UrlFilter,
  UUID_HINT,
  useVmName,
} from './queries';

const CONTROL =
  'rounded-md border bg-white px-2.5 py-2 text-sm dark:bg-zinc-900 focus:outline-2 focus:outline-indigo-500';
const LABELS: Record<string, string> = Object.fromEntries(LOOKUPS);

function AccountName({ id }: { id: string }) {
  const account = useQuery({
    queryKey: ['accounts', 'one', id, 'name'],
    queryFn: async () =>
      unwrap(await api.GET('/api/v1/accounts/{id}', { params: { path: { id } } })),
  });
  return <>{account.data ? account.data.username : account.isError ? 'unknown' : '…'}</>;
}

function VmName({ id }: { id: string }) {
  const vm = useVmName(id);
  return <>{vm.data ? (vm.data.name ?? `VM ${vm.data.vmid}`) : vm.isError ? 'unknown' : '…'}</>;
}

/**
 * Exact lookups of GET /hardware the search box cannot do: a MAC address or a UUID in any
 * spelling, and the records linked to one account or VM (chips, e.g. from an account's page).
 */
export function HardwareLookup({
  values,
  onChange,
}: {
  values: Partial<Record<UrlFilter, string>>;
  onChange: (change: Partial<Record<UrlFilter, string | null>>) => void;
}) {
  const [kind, setKind] = useState<Lookup>('mac_address');
  const [value, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const id = useId();

  const find = (event: FormEvent) => {
    event.preventDefault();
    const typed = value.trim();
    if (typed === '') return setError('Type the identifier to look up.');
    if (kind === 'mac_address' ? !isMac(typed) : !isUuid(typed))
      return setError(kind === 'mac_address' ? MAC_HINT : UUID_HINT);
    setError(null);
    setValue('');
    // One identifier at a time: a new lookup replaces the previous one.
    onChange({
      ...Object.fromEntries(LOOKUPS.map(([name]) => [name, null])),
      [kind]: typed,
    });
  };

  const chips: Array<[UrlFilter, ReactNode]> = [
    ...LOOKUPS.filter(([name]) => values[name]).map(
      ([name, label]) =>
        [
          name,
          <>
            {label}: <code className="font-mono">{values[name]}</code>
          </>,
        ] as [UrlFilter, ReactNode],
    ),
    ...(values.account_id
      ? [
          [
            'account_id',
            <>
              Account: <AccountName id={values.account_id} />
            </>,
          ] as [UrlFilter, ReactNode],
        ]
      : []),
    ...(values.vm_id
      ? [
          [
            'vm_id',
            <>
              VM: <VmName id={values.vm_id} />
            </>,
          ] as [UrlFilter, ReactNode],
        ]
      : []),
  ];

  return (
    <div className="mb-3 space-y-2">
      <form
        onSubmit={find}
        noValidate
        className="flex flex-wrap items-start gap-2"
        aria-label="Find by identifier"
      >
        <label>
          <span className="sr-only">Identifier</span>
          <select
            aria-label="Identifier"
            value={kind}
            onChange={(event) => {
              setKind(event.target.value as Lookup);
              setError(null);
            }}
            className={cx(CONTROL, 'border-zinc-300 dark:border-zinc-700')}
          >
            {LOOKUPS.map(([name, label]) => (
              <option key={name} value={name}>
                {label}
              </option>
            ))}
          </select>
        </label>
        <div className="min-w-48 flex-1 sm:max-w-sm">
          <label htmlFor={id} className="sr-only">
            {LABELS[kind]} to find
          </label>
          <input
            id={id}
            value={value}
            onChange={(event) => setValue(event.target.value)}
            spellCheck={false}
            autoComplete="off"
            placeholder={
              kind === 'mac_address'
                ? 'bc-24-11-5e-0a-01'
                : '{4C4C4544-0042-3510-8052-B4C04F4E4D32}'
            }
            aria-invalid={error ? true : undefined}
            aria-describedby={error ? `${id}-error` : undefined}
            className={cx(
              CONTROL,
              'w-full font-mono',
              error ? 'border-red-500' : 'border-zinc-300 dark:border-zinc-700',
            )}
          />
          {error ? (
            <p
              id={`${id}-error`}
              role="alert"
              className="mt-1 text-xs text-red-600 dark:text-red-400"
            >
              {error}
            </p>
          ) : null}
        </div>
        <Button type="submit" variant="secondary">
          Find
        </Button>
      </form>
      {chips.length > 0 ? (
        <ul className="flex flex-wrap gap-2" aria-label="Exact filters">
          {chips.map(([name, content]) => (
            <li key={name}>
              <button
                type="button"
                onClick={() => onChange({ [name]: null })}
                className="rounded-full bg-indigo-100 px-2.5 py-1 text-xs text-indigo-800 hover:bg-indigo-200 focus-visible:outline-2 focus-visible:outline-indigo-500 dark:bg-indigo-950 dark:text-indigo-200"
                aria-label={`Remove filter ${LABELS[name] ?? (name === 'account_id' ? 'Account' : 'VM')}`}
              >
                {content} ×
              </button>
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
