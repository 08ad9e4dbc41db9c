'use client';

import { useQueryClient } from '@tanstack/react-query';
import Link from 'next/link';
import { type ReactNode, useState } from 'react';
import { toast } from 'sonner';
import { ApiError, problemMessage } from '../../api/problem';
import { DeleteButton } from '../../components/delete-button';
import { DetailLoadState } from '../../components/detail-load-state';
import { ConfirmDialog } from '../../components/dialog';
import { SecretField } from '../../components/secret-field';
import { StatusTimeline } from '../../components/timeline';
import { TotpCode } from '../../components/totp-code';
import { Button, Card, DetailList, PageHeader, StatusBadge, Tags } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { saveEdit } from '../../lib/save-edit';
import { ago } from '../../lib/time';
import { OwnerBanner } from '../scope/owner-banner';
import { ReasonDialog } from '../scope/reason-dialog';
import { ShareButton } from '../sharing/share-dialog';
import { SharedBanner } from '../sharing/shared-badge';
import { AccountForm, SECRET_FIELDS } from './account-form';
import { LinkedRecords } from './linked-records';
import {
  type Account,
  accountKeys,
  fetchTotp,
  patchAccount,
  revealSecrets,
  useAccount,
  useAccountEvents,
} from './queries';

const when = (iso: string | null) =>
  iso ? (
    <time dateTime={iso} title={new Date(iso).toLocaleString()}>
      {new Date(iso).toLocaleString()} ({ago(iso)})
    </time>
  ) : null;

function claimedNow(account: Account): boolean {
  return account.claimed_until !== null && new Date(account.claimed_until).getTime() > Date.now();
}

/** One account: details, secrets to reveal and copy, the live 2FA code, history and links. */
export function AccountDetail({ id }: { id: string }) {
  const query = useAccount(id);
  const events = useAccountEvents(id);
  const queryClient = useQueryClient();
  const [editing, setEditing] = useState(false);
  const [confirmRelease, setConfirmRelease] = useState(false);
  const [busy, setBusy] = useState(false);
  // Another user's account (an admin opened it): its secrets and 2FA code need a reason.
  const [reason, setReason] = useState<string | null>(null);
  const [askingReason, setAskingReason] = useState(false);

  if (query.isPending || query.isError) {
    return (
      <DetailLoadState
        pending={query.isPending}
        error={query.error}
        what="Account"
        listHref="/accounts"
        listLabel="accounts"
      />
    );
  }
  const { account, etag } = query.data;
  const refresh = () => queryClient.invalidateQueries({ queryKey: accountKeys.all });

  const release = async () => {
    setBusy(true);
    try {
      unwrap(
        await api.POST('/api/v1/accounts/{id}/release', { params: { path: { id } }, body: {} }),
      );
      toast.success(`Released ${account.username}.`);
      await refresh();
    } catch (error) {
      toast.error(
        error instanceof ApiError ? problemMessage(error.problem, error.message) : String(error),
      );
    } finally {
      setBusy(false);
      setConfirmRelease(false);
    }
  };

  const owner = account.owner;
  const gated = owner !== undefined && reason === null;
  // An account shared with you without its secrets (the API answers 403 secrets_not_shared).
  const noSecrets = account.shared_by !== undefined && account.secrets_shared !== true;
  const reveal = (field: (typeof SECRET_FIELDS)[number][0]) => async () =>
    (await revealSecrets(id, reason ?? undefined))[field];

  return (
    <div className="space-y-4">
      <OwnerBanner owner={account.owner} />
      <SharedBanner
        sharedBy={account.shared_by}
        permission={account.permission}
        secrets={account.secrets_shared}
      />
      <PageHeader
        title={
          <span className="flex items-center gap-3">
            {account.username} <StatusBadge status={account.status} />
          </span>
        }
        description={
          <>
            <Link href="/accounts" className="hover:underline">
              Accounts
            </Link>{' '}
            / {account.service}
          </>
        }
        actions={
          editing ? null : (
            <>
              {claimedNow(account) ? (
                <Button variant="secondary" onClick={() => setConfirmRelease(true)}>
                  Release
                </Button>
              ) : null}
              {!account.shared_by || account.permission === 'write' ? (
                <Button variant="secondary" onClick={() => setEditing(true)}>
                  Edit
                </Button>
              ) : null}
              {!account.shared_by && !account.owner ? (
                <ShareButton objectType="account" objectId={id} name={account.username} />
              ) : null}
              {account.shared_by ? null : (
                <DeleteButton
                  title={`Delete ${account.username}?`}
                  message="The account and its stored secrets are removed for good; links from hardware, VMs and cards are cleared."
                  confirmLabel="Delete account"
                  done={`Deleted ${account.username}.`}
                  remove={async () =>
                    unwrap(await api.DELETE('/api/v1/accounts/{id}', { params: { path: { id } } }))
                  }
                  listHref="/accounts"
                  queryKeys={{ list: accountKeys.all, one: accountKeys.one(id) }}
                />
              )}
            </>
          )
        }
      />

      {editing ? (
        <Card title="Edit account">
          <AccountForm
            account={account}
            submitLabel="Save changes"
            onCancel={() => setEditing(false)}
            onSubmit={async (body) => {
              await saveEdit({
                save: () => patchAccount(id, body, etag),
                what: 'account',
                refresh,
              });
              setEditing(false);
              await refresh();
            }}
          />
        </Card>
      ) : (
        <div className="grid gap-4 lg:grid-cols-2">
          <Card title="Details">
            <DetailList
              items={[
                ['Service', account.service],
                ['Username', account.username],
                ['E-mail', account.email],
                ['External id', account.external_id],
                ['Status', <StatusBadge key="s" status={account.status} />],
                ...(account.status === 'locked'
                  ? [
                      ['Locked until', when(account.locked_until) ?? 'until changed'] as [
                        string,
                        ReactNode,
                      ],
                    ]
                  : []),
                ['Status reason', account.status_reason],
                [
                  'Claimed',
                  claimedNow(account) ? (
                    <span key="c">
                      by {account.claimed_by ?? 'someone'} until {when(account.claimed_until)}
                    </span>
                  ) : (
                    'no'
                  ),
                ],
                ['Tags', <Tags key="t" tags={account.tags} />],
                ['Created', when(account.created_at)],
                ['Updated', when(account.updated_at)],
              ]}
            />
            {account.notes ? (
              <p className="mt-4 text-sm whitespace-pre-wrap text-zinc-700 dark:text-zinc-300">
                {account.notes}
              </p>
            ) : null}
          </Card>

          <div className="space-y-4">
            <Card title="Secrets">
              <p className="mb-2 text-xs text-zinc-500">
                Every reveal and copy is written to the audit log. Shown values hide after 30
                seconds.
              </p>
              {noSecrets ? (
                <p className="text-sm text-zinc-500" data-testid="secrets-not-shared">
                  {account.shared_by?.username} shared this account without its secrets.
                </p>
              ) : gated ? (
                <Button variant="secondary" onClick={() => setAskingReason(true)}>
                  Reveal {owner.username}'s secrets and 2FA code…
                </Button>
              ) : (
                SECRET_FIELDS.map(([field, label]) => (
                  <SecretField
                    key={field}
                    label={label}
                    stored={account[`has_${field}` as keyof Account] === true}
                    reveal={reveal(field)}
                  />
                ))
              )}
            </Card>
            {account.has_totp && !noSecrets ? (
              <Card title="2FA code">
                {gated ? (
                  <p className="text-sm text-zinc-500">
                    Shown once you give a reason for revealing {owner.username}'s secrets.
                  </p>
                ) : (
                  <TotpCode load={() => fetchTotp(id, reason ?? undefined)} />
                )}
              </Card>
            ) : null}
            {owner ? (
              <ReasonDialog
                open={askingReason}
                owner={owner.username}
                what="the secrets and the 2FA code of this account"
                onCancel={() => setAskingReason(false)}
                onSubmit={(given) => {
                  setReason(given);
                  setAskingReason(false);
                }}
              />
            ) : null}
          </div>

          <Card title="Status history">
            {events.isPending ? (
              <p className="text-sm text-zinc-500">Loading…</p>
            ) : events.isError ? (
              <p className="text-sm text-red-600">The history could not be loaded.</p>
            ) : (
              <StatusTimeline
                entries={events.data.map((e, i) => ({
                  id: `${e.at}-${i}`,
                  at: e.at,
                  status: e.to_status,
                  from: e.from_status,
                  detail: e.reason,
                }))}
              />
            )}
          </Card>
          <LinkedRecords accountId={id} />
        </div>
      )}

      <ConfirmDialog
        open={confirmRelease}
        title={`Release ${account.username}?`}
        message={`${account.claimed_by ?? 'The holder'} loses the lease now and the account can be claimed again.`}
        confirmLabel="Release"
        busy={busy}
        onConfirm={release}
        onCancel={() => setConfirmRelease(false)}
      />
    </div>
  );
}
