'use client';

import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { useState } from 'react';
import { toast } from 'sonner';
import { ApiError, problemMessage } from '../../api/problem';
import { DeleteButton } from '../../components/delete-button';
import { DetailLoadState } from '../../components/detail-load-state';
import { ConfirmDialog, Dialog } from '../../components/dialog';
import { SecretField } from '../../components/secret-field';
import {
  Button,
  Card,
  DetailList,
  Field,
  PageHeader,
  StatusBadge,
  Tags,
} from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { saveEdit } from '../../lib/save-edit';
import { ago } from '../../lib/time';
import { AccountPicker } from '../accounts/account-picker';
import { OwnerBanner } from '../scope/owner-banner';
import { ReasonDialog } from '../scope/reason-dialog';
import { CardForm } from './card-form';
import { cardKeys, money, patchCard, useCard } from './queries';

type Action = 'redeem' | 'fail' | 'release' | 'available';

const when = (iso: string | null) =>
  iso ? `${new Date(iso).toLocaleString()} (${ago(iso)})` : '—';

/**
 * One card: its codes (the page's read is audited; shown on request for 30 s), value, state,
 * and the actions of its life: redeem (onto an account), fail (with the reason), release.
 */
export function CardDetail({ id }: { id: string }) {
  // Another user's card (an admin opened it): its codes are read only with a reason.
  const [revealReason, setRevealReason] = useState<string | undefined>(undefined);
  const [askingReason, setAskingReason] = useState(false);
  const query = useCard(id, revealReason);
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [action, setAction] = useState<Action | null>(null);
  const [reason, setReason] = useState('');
  const [reasonError, setReasonError] = useState<string | null>(null);
  const [redeemAccount, setRedeemAccount] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  if (query.isPending || query.isError) {
    return (
      <DetailLoadState
        pending={query.isPending}
        error={query.error}
        what="Card"
        listHref="/cards"
        listLabel="cards"
      />
    );
  }
  const { card, etag } = query.data;
  // Every read of the card is audited (it carries the codes): mark the lists stale and read
  // the card itself once.
  const refresh = async () => {
    await queryClient.invalidateQueries({ queryKey: cardKeys.all, refetchType: 'none' });
    await query.refetch();
  };

  const run = async (what: Action) => {
    if (what === 'fail' && reason.trim() === '') {
      setReasonError('Say why it did not redeem.');
      return;
    }
    setBusy(true);
    try {
      const path = { params: { path: { id } } };
      if (what === 'redeem') {
        unwrap(
          await api.POST('/api/v1/cards/{id}/redeem', {
            ...path,
            body: redeemAccount ? { account_id: redeemAccount } : {},
          }),
        );
        toast.success('Marked redeemed.');
      } else if (what === 'fail') {
        unwrap(
          await api.POST('/api/v1/cards/{id}/fail', { ...path, body: { reason: reason.trim() } }),
        );
        toast.success('Marked failed.');
      } else if (what === 'release') {
        unwrap(await api.POST('/api/v1/cards/{id}/release', path));
        toast.success('Released: the card is available again.');
      } else {
        const saved = await saveEdit({
          save: () => patchCard(id, { status: 'available', failure_reason: null }, etag),
          what: 'card',
          refresh,
        });
        if (!saved) return;
      }
      await refresh();
    } catch (error) {
      toast.error(
        error instanceof ApiError ? problemMessage(error.problem, error.message) : String(error),
      );
    } finally {
      setBusy(false);
      setAction(null);
      setReason('');
      setReasonError(null);
    }
  };

  const open = card.status === 'available' || card.status === 'claimed';
  const gated = card.owner !== undefined && revealReason === undefined;
  return (
    <div className="space-y-4">
      <OwnerBanner owner={card.owner} />
      <PageHeader
        title={
          <span className="flex items-center gap-3">
            <span className="font-mono">{card.code_hint}</span> <StatusBadge status={card.status} />
          </span>
        }
        description={
          <>
            <Link href="/cards" className="hover:underline">
              Cards
            </Link>{' '}
            / {money(card)}
          </>
        }
        actions={
          editing ? null : (
            <>
              {open ? (
                <>
                  <Button onClick={() => setAction('redeem')}>Redeem</Button>
                  <Button variant="secondary" onClick={() => setAction('fail')}>
                    Fail
                  </Button>
                </>
              ) : null}
              {card.status === 'claimed' ? (
                <Button variant="secondary" onClick={() => setAction('release')}>
                  Release
                </Button>
              ) : null}
              {card.status === 'failed' || card.status === 'disabled' ? (
                <Button variant="secondary" onClick={() => setAction('available')}>
                  Make available
                </Button>
              ) : null}
              <Button variant="secondary" onClick={() => setEditing(true)}>
                Edit
              </Button>
              <DeleteButton
                title="Delete the card?"
                message="The card and its codes are removed for good."
                confirmLabel="Delete card"
                done="Deleted."
                remove={async () =>
                  unwrap(await api.DELETE('/api/v1/cards/{id}', { params: { path: { id } } }))
                }
                listHref="/cards"
                queryKeys={{ list: cardKeys.all, one: cardKeys.one(id) }}
              />
            </>
          )
        }
      />
      {editing ? (
        <Card title="Edit card">
          <CardForm
            card={card}
            submitLabel="Save changes"
            onCancel={() => setEditing(false)}
            onSubmit={async (body) => {
              const saved = await saveEdit({
                save: () => patchCard(id, body, etag),
                what: 'card',
                refresh,
              });
              setEditing(false);
              if (saved) await refresh();
            }}
          />
        </Card>
      ) : (
        <div className="grid gap-4 lg:grid-cols-2">
          <Card title="Codes">
            {gated && card.owner ? (
              <>
                <p className="mb-2 text-xs text-zinc-500">
                  {card.code_hint ? `Ends in ${card.code_hint}. ` : ''}The codes are not read until
                  you give a reason.
                </p>
                <Button variant="secondary" onClick={() => setAskingReason(true)}>
                  Reveal {card.owner.username}'s codes…
                </Button>
                <ReasonDialog
                  open={askingReason}
                  owner={card.owner.username}
                  what="the codes of this card"
                  onCancel={() => setAskingReason(false)}
                  onSubmit={(given) => {
                    setRevealReason(given);
                    setAskingReason(false);
                  }}
                />
              </>
            ) : (
              <>
                <p className="mb-2 text-xs text-zinc-500">
                  Opening this page was written to the audit log.
                </p>
                <SecretField
                  label="Code"
                  stored={Boolean(card.code1)}
                  reveal={async () => card.code1 ?? null}
                />
                <SecretField
                  label="Second code"
                  stored={Boolean(card.code2)}
                  reveal={async () => card.code2 ?? null}
                />
              </>
            )}
          </Card>
          <Card title="Details">
            <DetailList
              items={[
                ['Value', money(card)],
                ['Status', <StatusBadge key="s" status={card.status} />],
                ...(card.failure_reason
                  ? ([['Failure', card.failure_reason]] as Array<[string, string]>)
                  : []),
                [
                  'Claimed',
                  card.status === 'claimed'
                    ? `by ${card.claimed_by ?? 'someone'} until ${when(card.claimed_until)}`
                    : 'no',
                ],
                ['Redeemed', when(card.redeemed_at)],
                [
                  'Expires',
                  card.expires_at ? new Date(card.expires_at).toLocaleDateString() : 'never',
                ],
                ['Tags', <Tags key="t" tags={card.tags} />],
                ['Added', when(card.created_at)],
              ]}
            />
            <div className="mt-3">
              <AccountPicker
                label="Redeemed onto"
                accountId={card.account_id}
                onChange={async (accountId) => {
                  try {
                    if (
                      await saveEdit({
                        save: () => patchCard(id, { account_id: accountId }, etag),
                        what: 'card',
                        refresh,
                      })
                    )
                      await refresh();
                  } catch (error) {
                    toast.error(
                      error instanceof ApiError
                        ? problemMessage(error.problem, error.message)
                        : String(error),
                    );
                  }
                }}
              />
            </div>
            {card.notes ? <p className="mt-3 text-sm whitespace-pre-wrap">{card.notes}</p> : null}
          </Card>
        </div>
      )}

      <Dialog
        open={action === 'redeem'}
        onClose={() => setAction(null)}
        title="Mark the card redeemed"
        footer={
          <>
            <Button variant="ghost" onClick={() => setAction(null)} disabled={busy}>
              Cancel
            </Button>
            <Button onClick={() => run('redeem')} disabled={busy}>
              Mark redeemed
            </Button>
          </>
        }
      >
        <p className="mb-3">Optionally, the account it was redeemed onto:</p>
        <AccountPicker
          label="Onto"
          accountId={redeemAccount}
          onChange={async (accountId) => {
            setRedeemAccount(accountId);
          }}
        />
      </Dialog>
      <Dialog
        open={action === 'fail'}
        onClose={() => setAction(null)}
        title="Mark the card failed"
        footer={
          <>
            <Button variant="ghost" onClick={() => setAction(null)} disabled={busy}>
              Cancel
            </Button>
            <Button variant="danger" onClick={() => run('fail')} disabled={busy}>
              Mark failed
            </Button>
          </>
        }
      >
        <p className="mb-3">
          The card did not redeem. It leaves the claimable cards; the reason is kept.
        </p>
        <Field
          label="Reason"
          value={reason}
          maxLength={500}
          placeholder="e.g. Code already used"
          onChange={(event) => setReason(event.target.value)}
          error={reasonError ?? undefined}
        />
      </Dialog>
      <ConfirmDialog
        open={action === 'release'}
        title="Release the card?"
        message={`${card.claimed_by ?? 'The holder'} loses the lease; the card is available to claim again.`}
        confirmLabel="Release"
        busy={busy}
        onConfirm={() => run('release')}
        onCancel={() => setAction(null)}
      />
      <ConfirmDialog
        open={action === 'available'}
        title="Make the card available again?"
        message={
          card.status === 'failed'
            ? 'It can be claimed and redeemed again; the failure reason is cleared.'
            : 'It can be claimed again.'
        }
        confirmLabel="Make available"
        busy={busy}
        onConfirm={() => run('available')}
        onCancel={() => setAction(null)}
      />
    </div>
  );
}
