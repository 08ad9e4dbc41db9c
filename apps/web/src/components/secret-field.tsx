'use client';

import { useEffect, useState } from 'react';
import { toast } from 'sonner';
import { copyText } from './copy-button';
import { Button } from './ui';

export const SECRET_VISIBLE_S = 30;

/**
 * A field's label as it reads inside a sentence ("Reveal password", "No e-mail password is
 * stored"): the first word in lower case, unless it is a name or an abbreviation (Steam, 2FA).
 */
export function spokenName(label: string): string {
  const [first = '', ...rest] = label.split(' ');
  const keep = first === 'Steam' || first !== first[0] + first.slice(1).toLowerCase();
  return [keep ? first : first.toLowerCase(), ...rest].join(' ');
}

/**
 * One stored secret: hidden by default; "Reveal" asks the API (which audits every reveal) and
 * shows the value for 30 seconds with a countdown, then hides it and forgets it. "Copy" asks
 * the API the same way and copies without showing; the clipboard is cleared after 30 s when
 * it still holds the secret.
 */
export function SecretField({
  label,
  stored,
  reveal,
}: {
  label: string;
  /** Whether a value is stored (has_<field>); nothing to reveal otherwise. */
  stored: boolean;
  reveal: () => Promise<string | null>;
}) {
  const [value, setValue] = useState<string | null>(null);
  const [left, setLeft] = useState(0);
  const [busy, setBusy] = useState(false);
  const name = spokenName(label);

  useEffect(() => {
    if (value === null) return;
    const timer = setInterval(() => {
      setLeft((s) => {
        if (s <= 1) {
          setValue(null);
          return 0;
        }
        return s - 1;
      });
    }, 1000);
    return () => clearInterval(timer);
  }, [value]);

  const fetchValue = async () => {
    setBusy(true);
    try {
      const secret = await reveal();
      if (secret === null) toast.error(`No ${name} is stored.`);
      return secret;
    } catch (error) {
      toast.error(error instanceof Error ? error.message : `The ${name} could not be read.`);
      return null;
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="flex flex-wrap items-center gap-2 py-1.5">
      <span className="w-40 shrink-0 text-sm font-medium text-zinc-500">{label}</span>
      {!stored ? (
        <span className="text-sm text-zinc-400">not stored</span>
      ) : (
        <>
          <code
            className="min-w-32 flex-1 rounded bg-zinc-100 px-2 py-1 font-mono text-sm break-all dark:bg-zinc-800"
            data-testid={`secret-${name.replaceAll(' ', '-')}`}
            aria-live="polite"
          >
            {value ?? '••••••••••'}
          </code>
          {value !== null ? (
            <>
              <span className="text-xs tabular-nums text-zinc-500" title="Hidden again in">
                {left} s
              </span>
              <Button
                variant="secondary"
                className="px-2 py-1 text-xs"
                aria-label={`Hide ${name}`}
                onClick={() => {
                  setValue(null);
                  setLeft(0);
                }}
              >
                Hide
              </Button>
            </>
          ) : (
            <Button
              variant="secondary"
              className="px-2 py-1 text-xs"
              disabled={busy}
              aria-label={`Reveal ${name}`}
              onClick={async () => {
                const secret = await fetchValue();
                if (secret !== null) {
                  setValue(secret);
                  setLeft(SECRET_VISIBLE_S);
                }
              }}
            >
              Reveal
            </Button>
          )}
          <Button
            variant="secondary"
            className="px-2 py-1 text-xs"
            disabled={busy}
            aria-label={`Copy ${name}`}
            onClick={async () => {
              const secret = value ?? (await fetchValue());
              if (secret !== null)
                await copyText(secret, { what: name, clearAfterS: SECRET_VISIBLE_S });
            }}
          >
            Copy
          </Button>
        </>
      )}
    </div>
  );
}
