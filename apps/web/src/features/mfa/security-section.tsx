'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { toast } from 'sonner';
import { isProblem, problemMessage } from '../../api/problem';
import { Button, Field } from '../../components/ui';
import { ago } from '../../lib/time';
import { ceremonyMessage, passkeyProof } from './passkeys';
import {
  confirmEnrolment,
  disableMfa,
  mfaKeys,
  newRecoveryCodes,
  startEnrolment,
  type TotpEnrolment,
  useMyMfa,
} from './queries';
import { RecoveryCodes } from './recovery-codes';
import { TotpSetup } from './totp-setup';

const wrongCode = (problem: unknown) =>
  isProblem(problem) && problem.code === 'invalid_second_factor'
    ? 'The code is wrong or was used already.'
    : null;

/**
 * Settings → Security: set up an authenticator app (QR code, secret, confirming code), the
 * recovery codes shown once, and, with a fresh code, turning it off or new recovery codes.
 */
export function SecuritySection() {
  const status = useMyMfa();
  const queryClient = useQueryClient();
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [codes, setCodes] = useState<string[] | null>(null);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const refresh = () => queryClient.invalidateQueries({ queryKey: mfaKeys.mine });

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
  if (enrolment) {
    return (
      <TotpSetup
        enrolment={enrolment}
        confirm={async (value) => {
          const { data, error: problem } = await confirmEnrolment(value);
          if (data) {
            setEnrolment(null);
            setCodes(data.recovery_codes);
            toast.success('Second factor turned on.');
            return null;
          }
          return wrongCode(problem) ?? problemMessage(problem);
        }}
      />
    );
  }
  if (!status.data) return <p className="text-sm text-zinc-500">Loading…</p>;
  const mfa = status.data;

  if (!mfa.totp.enabled) {
    return (
      <div className="space-y-3">
        <p className="text-sm">
          {mfa.passkeys > 0
            ? 'No authenticator app is set up: your passkeys are your second factor.'
            : 'A second factor is off: your password alone logs you in.'}
          {mfa.required && mfa.passkeys === 0
            ? ' An administrator requires one; you set it up at your next login.'
            : ''}
        </p>
        <Button
          disabled={busy}
          onClick={async () => {
            setBusy(true);
            try {
              // With passkeys, one of them confirms the change first.
              const proof = mfa.passkeys > 0 ? await passkeyProof() : undefined;
              const { data, error: problem } = await startEnrolment(proof);
              if (data) setEnrolment(data);
              else toast.error(problemMessage(problem));
            } catch (err) {
              toast.error(ceremonyMessage(err));
            } finally {
              setBusy(false);
            }
          }}
        >
          Set up an authenticator app
        </Button>
      </div>
    );
  }

  /** Runs an action that needs a fresh code; clears the field after. */
  const withCode = async (action: (value: string) => Promise<boolean>) => {
    const value = code.trim();
    if (!value) {
      setError('Enter a current code of your app or a recovery code.');
      return;
    }
    setBusy(true);
    try {
      if (await action(value)) {
        setCode('');
        setError(undefined);
      }
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="space-y-3">
      <p className="text-sm">
        An authenticator app is on (since {ago(mfa.totp.confirmed_at)}). {mfa.recovery_codes_left}{' '}
        recovery code{mfa.recovery_codes_left === 1 ? '' : 's'} left.
      </p>
      <div className="max-w-md space-y-3">
        <Field
          label="Current code or recovery code"
          hint="Needed to turn the second factor off or to get new recovery codes."
          autoComplete="one-time-code"
          value={code}
          onChange={(e) => setCode(e.target.value)}
          error={error}
        />
        <div className="flex flex-wrap gap-2">
          <Button
            variant="secondary"
            disabled={busy}
            onClick={() =>
              withCode(async (value) => {
                const { data, error: problem } = await newRecoveryCodes(value);
                if (data) {
                  setCodes(data.recovery_codes);
                  return true;
                }
                setError(wrongCode(problem) ?? problemMessage(problem));
                return false;
              })
            }
          >
            New recovery codes
          </Button>
          <Button
            variant="danger"
            disabled={busy}
            onClick={() =>
              withCode(async (value) => {
                const { response, error: problem } = await disableMfa(value);
                if (response.ok) {
                  toast.success('Second factor turned off.');
                  await refresh();
                  return true;
                }
                setError(wrongCode(problem) ?? problemMessage(problem));
                return false;
              })
            }
          >
            Turn off
          </Button>
        </div>
      </div>
    </div>
  );
}
