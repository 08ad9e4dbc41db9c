'use client';

import { useState } from 'react';
import { Button, Field } from '../../components/ui';
import type { TotpEnrolment } from './queries';

/**
 * The QR code and secret of an authenticator app being set up, and the confirming code.
 * `confirm` answers an error message or null when the code passed.
 */
export function TotpSetup({
  enrolment,
  confirm,
}: {
  enrolment: TotpEnrolment;
  confirm: (code: string) => Promise<string | null>;
}) {
  const [code, setCode] = useState('');
  const [error, setError] = useState<string | undefined>();
  const [busy, setBusy] = useState(false);
  return (
    <form
      className="space-y-3"
      noValidate
      aria-label="Set up an authenticator app"
      onSubmit={async (e) => {
        e.preventDefault();
        if (!/^\d{6}$/.test(code.trim())) {
          setError('Enter the 6-digit code the app shows.');
          return;
        }
        setBusy(true);
        try {
          setError((await confirm(code.trim())) ?? undefined);
        } finally {
          setBusy(false);
        }
      }}
    >
      <p className="text-sm">
        Scan this code with an authenticator app (or type the secret into it), then enter the
        6-digit code it shows.
      </p>
      {/* biome-ignore lint/performance/noImgElement: a data: URL made by the API; next/image cannot optimise it */}
      <img
        src={enrolment.qr_code}
        alt="QR code of the authenticator secret"
        className="h-48 w-48 bg-white"
      />
      <p className="text-sm">
        Secret:{' '}
        <code className="break-all font-mono" data-testid="totp-secret">
          {enrolment.secret}
        </code>
      </p>
      <Field
        label="Code from the app"
        inputMode="numeric"
        autoComplete="one-time-code"
        value={code}
        onChange={(e) => setCode(e.target.value)}
        error={error}
      />
      <Button type="submit" disabled={busy}>
        {busy ? 'Checking…' : 'Turn on'}
      </Button>
    </form>
  );
}
