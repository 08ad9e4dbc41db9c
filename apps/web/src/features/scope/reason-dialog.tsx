'use client';

import { type FormEvent, useState } from 'react';
import { Dialog } from '../../components/dialog';
import { Button, Field } from '../../components/ui';

/** As the API bounds it (ReasonParam): 1–500 printable characters, not blank. */
export const REASON_MAX = 500;

/** Why a reason cannot be sent, or null when it can. */
export function reasonError(reason: string): string | null {
  if (reason.trim() === '') return 'Say why you reveal it.';
  if (reason.length > REASON_MAX) return `At most ${REASON_MAX} characters.`;
  // biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
  if (/[\u0000-\u001f\u007f]/.test(reason)) return 'Only printable characters.';
  return null;
}

/**
 * Asks an admin why they reveal another user's secret (its password, 2FA code, card codes):
 * the reason goes with the request and into the audit entry the owner reads.
 */
export function ReasonDialog({
  open,
  owner,
  what,
  onSubmit,
  onCancel,
}: {
  open: boolean;
  owner: string;
  /** What is revealed: "the secrets and 2FA code of this account". */
  what: string;
  onSubmit: (reason: string) => void;
  onCancel: () => void;
}) {
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const submit = (event?: FormEvent) => {
    event?.preventDefault();
    const problem = reasonError(reason);
    setError(problem);
    if (problem === null) onSubmit(reason.trim());
  };
  return (
    <Dialog
      open={open}
      onClose={onCancel}
      title={`Reveal ${owner}'s secret`}
      footer={
        <>
          <Button variant="secondary" onClick={onCancel}>
            Cancel
          </Button>
          <Button onClick={() => submit()}>Reveal</Button>
        </>
      }
    >
      <form onSubmit={submit} className="space-y-3">
        <p>
          You are about to reveal {what}, which belong(s) to <strong>{owner}</strong>. Your reason
          is written to the audit log, where {owner} sees it.
        </p>
        <Field
          label="Reason"
          value={reason}
          maxLength={REASON_MAX}
          autoFocus
          placeholder="Support ticket 42: locked out"
          error={error ?? undefined}
          onChange={(event) => setReason(event.target.value)}
        />
      </form>
    </Dialog>
  );
}
