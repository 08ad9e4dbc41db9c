'use client';

import { CopyButton } from '../../components/copy-button';
import { saveBlob } from '../../components/list/run-each';
import { Button } from '../../components/ui';

/** Ten one-time recovery codes, shown once, with copy and download. */
export function RecoveryCodes({ codes, onDone }: { codes: string[]; onDone: () => void }) {
  const text = `${codes.join('\n')}\n`;
  return (
    <section className="space-y-3" aria-label="Recovery codes">
      <p className="text-sm">
        Keep these recovery codes somewhere safe: each logs you in once if you lose your
        authenticator app. They are shown only now.
      </p>
      <ol className="grid grid-cols-2 gap-1 rounded-md bg-zinc-100 p-3 font-mono text-sm dark:bg-zinc-900">
        {codes.map((code) => (
          <li key={code} data-testid="recovery-code">
            {code}
          </li>
        ))}
      </ol>
      <div className="flex flex-wrap gap-2">
        <CopyButton text={text} what="recovery codes" label="Copy" />
        <Button
          variant="secondary"
          className="px-2 py-1 text-xs"
          onClick={() =>
            saveBlob(new Blob([text], { type: 'text/plain' }), 'accountdb-recovery-codes.txt')
          }
        >
          Download
        </Button>
        <Button onClick={onDone}>I have saved them</Button>
      </div>
    </section>
  );
}
