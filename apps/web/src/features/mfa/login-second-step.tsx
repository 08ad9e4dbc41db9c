'use client';

import { useEffect, useState } from 'react';
import { toast } from 'sonner';
import type { ApiClient } from '../../api/client';
import { isProblem, problemMessage } from '../../api/problem';
import type { LoginResponse } from '../../api/session';
import { Button, Field } from '../../components/ui';
import { ceremonyMessage, passkeySecondStep, passkeysSupported } from './passkeys';
import {
  type LoginChallenge,
  type SecondStepAnswer,
  sendSecondStep,
  startLoginEnrolment,
  type TotpEnrolment,
} from './queries';
import { RecoveryCodes } from './recovery-codes';
import { TotpSetup } from './totp-setup';

const codeOf = (problem: unknown) => (isProblem(problem) ? problem.code : undefined);

/**
 * The second step of a login: a code of the authenticator app or a recovery code ('mfa'), or
 * setting up the app an admin requires ('enroll'). `onRestart` goes back to the password
 * (the challenge is used, expired or the name is locked).
 */
export function LoginSecondStep(props: {
  api: ApiClient;
  challenge: LoginChallenge;
  onLoggedIn: (answer: LoginResponse) => void;
  onRestart: () => void;
}) {
  return props.challenge.purpose === 'enroll' ? <EnrolStep {...props} /> : <CodeStep {...props} />;
}

/** Handles a refused second step: a wrong code stays here, anything else starts over. */
function refused(problem: unknown, onRestart: () => void): string | null {
  if (codeOf(problem) === 'invalid_second_factor') return 'The code is wrong or was used already.';
  toast.error(problemMessage(problem));
  onRestart();
  return null;
}

function CodeStep({
  api,
  challenge,
  onLoggedIn,
  onRestart,
}: {
  api: ApiClient;
  challenge: LoginChallenge;
  onLoggedIn: (answer: LoginResponse) => void;
  onRestart: () => void;
}) {
  const hasTotp = challenge.methods.includes('totp');
  const [recovery, setRecovery] = useState(!hasTotp);
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  const canRecover = challenge.methods.includes('recovery_code');
  const canPasskey = challenge.methods.includes('webauthn') && passkeysSupported();

  const withPasskey = async () => {
    setBusy(true);
    setError(undefined);
    try {
      const { data, error: problem } = await passkeySecondStep(api, challenge.challenge);
      if (data) onLoggedIn(data);
      else if (codeOf(problem) === 'invalid_second_factor')
        setError('The passkey was not accepted; try again.');
      else setError(refused(problem, onRestart) ?? undefined);
    } catch (err) {
      setError(ceremonyMessage(err));
    } finally {
      setBusy(false);
    }
  };

  return (
    <form
      className="space-y-4"
      noValidate
      aria-label="Second factor"
      onSubmit={async (e) => {
        e.preventDefault();
        const value = code.trim();
        if (!recovery && !/^\d{6}$/.test(value)) {
          setError('Enter the 6-digit code of your authenticator app.');
          return;
        }
        if (recovery && value.replace(/[\s-]/g, '').length !== 16) {
          setError('Enter one of your recovery codes (16 letters and digits).');
          return;
        }
        setBusy(true);
        try {
          const { data, error: problem } = await sendSecondStep(api, {
            challenge: challenge.challenge,
            code: value,
          });
          if (data) onLoggedIn(data);
          else setError(refused(problem, onRestart) ?? undefined);
        } finally {
          setBusy(false);
        }
      }}
    >
      {recovery ? (
        <Field
          key="recovery"
          label="Recovery code"
          autoComplete="off"
          autoFocus
          value={code}
          onChange={(e) => setCode(e.target.value)}
          error={error}
        />
      ) : (
        <Field
          key="totp"
          label="Authentication code"
          hint="The 6-digit code your authenticator app shows."
          inputMode="numeric"
          autoComplete="one-time-code"
          autoFocus
          value={code}
          onChange={(e) => setCode(e.target.value)}
          error={error}
        />
      )}
      <Button type="submit" className="w-full" disabled={busy}>
        {busy ? 'Checking…' : 'Verify'}
      </Button>
      {canPasskey ? (
        <Button
          type="button"
          variant="secondary"
          className="w-full"
          disabled={busy}
          onClick={withPasskey}
        >
          Use a passkey
        </Button>
      ) : null}
      <div className="flex justify-between text-sm">
        {canRecover && hasTotp ? (
          <button
            type="button"
            className="text-indigo-600 dark:text-indigo-400"
            onClick={() => {
              setRecovery(!recovery);
              setCode('');
              setError(undefined);
            }}
          >
            {recovery ? 'Use the authenticator app' : 'Use a recovery code'}
          </button>
        ) : (
          <span />
        )}
        <button type="button" className="text-zinc-500" onClick={onRestart}>
          Start over
        </button>
      </div>
    </form>
  );
}

function EnrolStep({
  api,
  challenge,
  onLoggedIn,
  onRestart,
}: {
  api: ApiClient;
  challenge: LoginChallenge;
  onLoggedIn: (answer: LoginResponse) => void;
  onRestart: () => void;
}) {
  const [enrolment, setEnrolment] = useState<TotpEnrolment | null>(null);
  const [done, setDone] = useState<SecondStepAnswer | null>(null);

  useEffect(() => {
    let live = true;
    startLoginEnrolment(api, challenge.challenge).then(({ data, error }) => {
      if (!live) return;
      if (data) setEnrolment(data);
      else {
        toast.error(problemMessage(error));
        onRestart();
      }
    });
    return () => {
      live = false;
    };
  }, [api, challenge.challenge, onRestart]);

  if (done) {
    return <RecoveryCodes codes={done.recovery_codes ?? []} onDone={() => onLoggedIn(done)} />;
  }
  return (
    <div className="space-y-3">
      <p className="text-sm font-medium">
        This installation requires a second factor. Set up an authenticator app to continue.
      </p>
      {enrolment ? (
        <TotpSetup
          enrolment={enrolment}
          confirm={async (code) => {
            const { data, error } = await sendSecondStep(api, {
              challenge: challenge.challenge,
              code,
            });
            if (data) {
              if (data.recovery_codes?.length) setDone(data);
              else onLoggedIn(data);
              return null;
            }
            return refused(error, onRestart);
          }}
        />
      ) : (
        <p className="text-sm text-zinc-500">Preparing…</p>
      )}
    </div>
  );
}
