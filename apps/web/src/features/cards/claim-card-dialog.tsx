'use client';

import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { ApiError, problemMessage } from '../../api/problem';
import { CopyButton } from '../../components/copy-button';
import { Dialog } from '../../components/dialog';
import { Button, Field } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { type CardRecord, cardKeys, money } from './queries';

/**
 * "Claim next card": leases the next available card matching the criteria (soonest expiring
 * first) and shows its code once, to copy. The claim is audited; the lease lapses by itself.
 */
export function ClaimCardDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const [currency, setCurrency] = useState('');
  const [minValue, setMinValue] = useState('');
  const [tag, setTag] = useState('');
  const [claimedBy, setClaimedBy] = useState('');
  const [lease, setLease] = useState('600');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [card, setCard] = useState<CardRecord | null>(null);

  const close = () => {
    setCard(null);
    setError(null);
    onClose();
  };
  const claim = async () => {
    if (currency && !/^[A-Za-z]{3}$/.test(currency))
      return setError('A three-letter currency code, e.g. EUR.');
    if (minValue && (Number.isNaN(Number(minValue)) || Number(minValue) < 0))
      return setError('A minimum value of 0 or more.');
    const seconds = Number(lease);
    if (!Number.isInteger(seconds) || seconds < 10 || seconds > 604_800)
      return setError('A lease of 10 to 604800 seconds.');
    setBusy(true);
    setError(null);
    try {
      const filter = {
        ...(currency ? { currency: currency.toUpperCase() } : {}),
        ...(minValue ? { min_value: Number(minValue) } : {}),
        ...(tag.trim() ? { tags: [tag.trim()] } : {}),
      };
      const claimed = unwrap(
        await api.POST('/api/v1/cards/claim', {
          body: {
            lease_seconds: seconds,
            ...(claimedBy.trim() ? { claimed_by: claimedBy.trim() } : {}),
            ...(Object.keys(filter).length ? { filter } : {}),
          },
        }),
      );
      setCard(claimed);
      await queryClient.invalidateQueries({ queryKey: cardKeys.all });
    } catch (err) {
      setError(
        err instanceof ApiError && err.status === 404
          ? 'No available card matches.'
          : err instanceof ApiError
            ? problemMessage(err.problem, err.message)
            : String(err),
      );
    } finally {
      setBusy(false);
    }
  };

  return (
    <Dialog
      open={open}
      onClose={close}
      title={card ? 'Claimed card' : 'Claim next card'}
      footer={
        card ? (
          <Button onClick={close}>Done</Button>
        ) : (
          <>
            <Button variant="ghost" onClick={close} disabled={busy}>
              Cancel
            </Button>
            <Button onClick={claim} disabled={busy}>
              {busy ? 'Claiming…' : 'Claim'}
            </Button>
          </>
        )
      }
    >
      {card ? (
        <div className="space-y-3">
          <p>
            {money(card)} — leased until{' '}
            {card.claimed_until ? new Date(card.claimed_until).toLocaleTimeString() : '—'}. Mark it
            redeemed or failed on{' '}
            <Link
              href={`/cards/${card.id}`}
              className="text-indigo-700 underline dark:text-indigo-300"
            >
              its page
            </Link>
            .
          </p>
          <div className="flex flex-wrap items-center gap-2">
            <code
              data-testid="claimed-code"
              className="flex-1 rounded bg-zinc-100 px-2 py-1 font-mono dark:bg-zinc-800"
            >
              {card.code1}
            </code>
            {card.code1 ? <CopyButton text={card.code1} what="code" /> : null}
          </div>
          {card.code2 ? (
            <div className="flex flex-wrap items-center gap-2">
              <code className="flex-1 rounded bg-zinc-100 px-2 py-1 font-mono dark:bg-zinc-800">
                {card.code2}
              </code>
              <CopyButton text={card.code2} what="second code" />
            </div>
          ) : null}
        </div>
      ) : (
        <form
          className="grid gap-3 sm:grid-cols-2"
          onSubmit={(event) => {
            event.preventDefault();
            void claim();
          }}
        >
          <Field
            label="Currency"
            placeholder="any"
            value={currency}
            onChange={(e) => setCurrency(e.target.value)}
          />
          <Field
            label="Minimum value"
            inputMode="decimal"
            placeholder="any"
            value={minValue}
            onChange={(e) => setMinValue(e.target.value)}
          />
          <Field
            label="With tag"
            placeholder="any"
            value={tag}
            onChange={(e) => setTag(e.target.value)}
          />
          <Field
            label="Claimed by"
            placeholder="you"
            value={claimedBy}
            onChange={(e) => setClaimedBy(e.target.value)}
          />
          <Field
            label="Lease (seconds)"
            inputMode="numeric"
            value={lease}
            onChange={(e) => setLease(e.target.value)}
          />
          {error ? (
            <p role="alert" className="text-sm text-red-600 sm:col-span-2 dark:text-red-400">
              {error}
            </p>
          ) : null}
          <button type="submit" className="sr-only">
            Claim
          </button>
        </form>
      )}
    </Dialog>
  );
}
