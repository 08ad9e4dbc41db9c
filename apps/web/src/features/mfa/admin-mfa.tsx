'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { toast } from 'sonner';
import { ApiError, problemMessage } from '../../api/problem';
import { ConfirmDialog } from '../../components/dialog';
import { Button, Card, DetailList } from '../../components/ui';
import { ago } from '../../lib/time';
import { mfaKeys, resetUserMfa, useSaveSettings, useSettings, useUserMfa } from './queries';

const failure = (error: unknown) =>
  error instanceof ApiError ? problemMessage(error.problem, error.message) : String(error);

/** Admins, on a user's page: their second factor, and a reset for one who lost it (audited). */
export function UserMfaCard({ id, username }: { id: string; username: string }) {
  const status = useUserMfa(id);
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const mfa = status.data;
  return (
    <Card title="Second factor">
      {mfa ? (
        <DetailList
          items={[
            [
              'Authenticator app',
              mfa.totp.enabled ? `on since ${ago(mfa.totp.confirmed_at)}` : 'off',
            ],
            ['Passkeys', String(mfa.passkeys)],
            ['Recovery codes left', String(mfa.recovery_codes_left)],
          ]}
        />
      ) : (
        <p className="text-sm text-zinc-500">Loading…</p>
      )}
      <Button
        variant="secondary"
        className="mt-3"
        disabled={!mfa || (!mfa.totp.enabled && mfa.passkeys === 0)}
        onClick={() => setConfirming(true)}
      >
        Reset second factor
      </Button>
      <ConfirmDialog
        open={confirming}
        title={`Reset the second factor of ${username}?`}
        message="Their authenticator app, passkeys and recovery codes are removed; they log in with the password alone (or set up a new factor at login where one is required). They see the reset in their audit log."
        confirmLabel="Reset second factor"
        busy={busy}
        onCancel={() => setConfirming(false)}
        onConfirm={async () => {
          setBusy(true);
          try {
            await resetUserMfa(id);
            toast.success(`Reset the second factor of ${username}.`);
            await queryClient.invalidateQueries({ queryKey: mfaKeys.user(id) });
            setConfirming(false);
          } catch (error) {
            toast.error(failure(error));
          } finally {
            setBusy(false);
          }
        }}
      />
    </Card>
  );
}

/** Admins, on the Users page: require a second factor of everyone. */
export function MfaRequiredSetting() {
  const settings = useSettings();
  const save = useSaveSettings();
  const [busy, setBusy] = useState(false);
  if (!settings.data) return null;
  const required = settings.data.mfa_required;
  return (
    <Card title="Second factor for everyone">
      <label className="flex items-center gap-2 text-sm">
        <input
          type="checkbox"
          checked={required}
          disabled={busy}
          onChange={async (e) => {
            setBusy(true);
            try {
              await save({ mfa_required: e.target.checked });
              toast.success(
                e.target.checked
                  ? 'A second factor is now required: users without one set it up at their next login.'
                  : 'A second factor is no longer required.',
              );
            } catch (error) {
              toast.error(failure(error));
            } finally {
              setBusy(false);
            }
          }}
        />
        Require a second factor (authenticator app) of every user
      </label>
      <p className="mt-2 text-xs text-zinc-500">
        Users without one are asked to set it up after their password at their next login; sessions
        already open stay.
      </p>
    </Card>
  );
}
