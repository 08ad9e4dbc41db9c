'use client';

import { useState } from 'react';
import { toast } from 'sonner';
import { Button } from './ui';

/**
 * Copies text to the clipboard with a toast. With `clearAfterS` it empties the clipboard
 * again after that many seconds if it still holds the copied text (where the browser lets the
 * page read it; otherwise the text stays, as in any password manager without that permission).
 */
export async function copyText(text: string, options: { what: string; clearAfterS?: number }) {
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    toast.error(`Could not copy the ${options.what}: the browser refused the clipboard.`);
    return false;
  }
  toast.success(
    options.clearAfterS
      ? `Copied the ${options.what}; the clipboard is cleared in ${options.clearAfterS} s.`
      : `Copied the ${options.what}.`,
  );
  if (options.clearAfterS) {
    setTimeout(async () => {
      try {
        if ((await navigator.clipboard.readText()) === text)
          await navigator.clipboard.writeText('');
      } catch {
        // Reading the clipboard needs a permission the page may not have.
      }
    }, options.clearAfterS * 1000);
  }
  return true;
}

export function CopyButton({
  text,
  what,
  label,
  clearAfterS,
}: {
  text: string | (() => Promise<string | null>);
  what: string;
  label?: string;
  clearAfterS?: number;
}) {
  const [busy, setBusy] = useState(false);
  return (
    <Button
      variant="secondary"
      className="px-2 py-1 text-xs"
      disabled={busy}
      onClick={async () => {
        setBusy(true);
        try {
          const value = typeof text === 'string' ? text : await text();
          if (value !== null)
            await copyText(value, { what, ...(clearAfterS ? { clearAfterS } : {}) });
        } finally {
          setBusy(false);
        }
      }}
    >
      {label ?? `Copy ${what}`}
    </Button>
  );
}
