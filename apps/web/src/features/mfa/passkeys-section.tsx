'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { toast } from 'sonner';
import { isProblem, problemMessage } from '../../api/problem';
import { Button, Field } from '../../components/ui';
import { ago } from '../../lib/time';
import {
  addPasskey,
  ceremonyMessage,
  type Passkey,
  type Proof,
  passkeyKeys,
  passkeyProof,
  passkeysSupported,
  removePasskey,
  renamePasskey,
  useMyPasskeys,
} from './passkeys';
import { mfaKeys, useMyMfa } from './queries';
import { RecoveryCodes } from './recovery-codes';

const refusedFactor = (problem: unknown) =>
  isProblem(problem) && problem.code === 'invalid_second_factor'
    ? 'The code or passkey is wrong or was used already.'
    : problemMessage(problem);

/**
 * Settings → Security → Passkeys: add one under a name (the browser's passkey prompt), see
 * when each was added and last used, rename, remove. Adding another and removing one need a
 * fresh second factor: the code typed in the field, or, left empty, one of your passkeys.
 */
export function PasskeysSection() {
  const passkeys = useMyPasskeys();
  const status = useMyMfa();
  const queryClient = useQueryClient();
  const [name, setName] = useState('');
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const [codes, setCodes] = useState<string[] | null>(null);
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: passkeyKeys.mine });
    await queryClient.invalidateQueries({ queryKey: mfaKeys.mine });
  };

  if (codes) {
    return (
      <RecoveryCodes
        codes={codes}
        onDone={() => {
          setCodes(null);
          void refresh();
        }}
      />
    );
  }
  if (!passkeys.data || !status.data) return <p className="text-sm text-zinc-500">Loading…</p>;
  const list = passkeys.data;
  const hasFactor = status.data.methods.some((m) => m === 'totp' || m === 'webauthn');

  /** The fresh factor a change needs: the typed code, else a passkey prompt; null: none needed. */
  const proof = async (needed: boolean): Promise<Proof | null | 'missing'> => {
    if (!needed) return null;
    const typed = code.trim();
    if (typed) return { code: typed };
    if (list.length > 0) return passkeyProof();
    return 'missing';
  };

  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
    } catch (err) {
      setError(ceremonyMessage(err));
    } finally {
      setBusy(false);
    }
  };

  const add = () =>
    run(async () => {
      const label = name.trim();
      if (!label) {
        setError('Give the passkey a name, e.g. “Laptop”.');
        return;
      }
      const fresh = await proof(hasFactor);
      if (fresh === 'missing') {
        setError('Enter a current code of your app or a recovery code.');
        return;
      }
      const { data, error: problem } = await addPasskey(label, fresh);
      if (!data) {
        setError(refusedFactor(problem));
        return;
      }
      toast.success(`Passkey “${data.passkey.name}” added.`);
      setName('');
      setCode('');
      if (data.recovery_codes?.length) setCodes(data.recovery_codes);
      else await refresh();
    });

  const remove = (passkey: Passkey) =>
    run(async () => {
      const fresh = await proof(true);
      if (fresh === 'missing' || !fresh) return;
      const { response, error: problem } = await removePasskey(passkey.id, fresh);
      if (!response.ok) {
        setError(refusedFactor(problem));
        return;
      }
      toast.success(`Passkey “${passkey.name}” removed.`);
      setCode('');
      await refresh();
    });

  const rename = (passkey: Passkey) =>
    run(async () => {
      const next = window.prompt('New name of the passkey', passkey.name)?.trim();
      if (!next || next === passkey.name) return;
      const { data, error: problem } = await renamePasskey(passkey.id, next);
      if (!data) {
        setError(problemMessage(problem));
        return;
      }
      await refresh();
    });

  return (
    <div className="space-y-3">
      <p className="text-sm">
        A passkey logs you in with this device’s screen lock or a security key: after your password,
        or alone with “Sign in with a passkey”.
      </p>
      {list.length === 0 ? (
        <p className="text-sm text-zinc-500">No passkeys yet.</p>
      ) : (
        <ul className="divide-y divide-zinc-200 text-sm dark:divide-zinc-800" aria-label="Passkeys">
          {list.map((p) => (
            <li key={p.id} className="flex flex-wrap items-center justify-between gap-2 py-2">
              <div>
                <div className="font-medium" data-testid="passkey-name">
                  {p.name}
                </div>
                <div className="text-xs text-zinc-500">
                  Added {ago(p.created_at)} · last used{' '}
                  {p.last_used_at ? ago(p.last_used_at) : 'never'}
                  {p.device_type === 'multiDevice' ? ' · synced' : ''}
                </div>
              </div>
              <div className="flex gap-2">
                <Button variant="secondary" disabled={busy} onClick={() => rename(p)}>
                  Rename
                </Button>
                <Button
                  variant="danger"
                  disabled={busy}
                  aria-label={`Remove passkey ${p.name}`}
                  onClick={() => remove(p)}
                >
                  Remove
                </Button>
              </div>
            </li>
          ))}
        </ul>
      )}
      <div className="max-w-md space-y-3">
        <Field
          label="Passkey name"
          value={name}
          maxLength={100}
          onChange={(e) => setName(e.target.value)}
        />
        {hasFactor ? (
          <Field
            label="Code for passkey changes"
            hint={
              list.length > 0
                ? 'A current code of your app or a recovery code; leave empty to confirm with one of your passkeys.'
                : 'A current code of your app or a recovery code.'
            }
            autoComplete="one-time-code"
            value={code}
            onChange={(e) => setCode(e.target.value)}
          />
        ) : null}
        {error ? (
          <p role="alert" className="text-sm text-red-600 dark:text-red-400">
            {error}
          </p>
        ) : null}
        <Button disabled={busy || !passkeysSupported()} onClick={add}>
          {busy ? 'Waiting for the passkey…' : 'Add a passkey'}
        </Button>
        {passkeysSupported() ? null : (
          <p className="text-xs text-zinc-500">This browser cannot use passkeys.</p>
        )}
      </div>
    </div>
  );
}
