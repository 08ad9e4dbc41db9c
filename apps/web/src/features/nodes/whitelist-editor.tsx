'use client';

import { useState } from 'react';
import { Button, cx } from '../../components/ui';

const MAX_VMID = 999_999_999;

/** "101", " 102 " → 101, 102; anything else → the message to show. */
export function parseVmid(text: string): number | string {
  const trimmed = text.trim();
  if (!/^\d+$/.test(trimmed)) return 'A VMID is a whole number, e.g. 101.';
  const vmid = Number(trimmed);
  if (vmid < 1 || vmid > MAX_VMID) return `A VMID is from 1 to ${MAX_VMID}.`;
  return vmid;
}

/**
 * Which guests of a node are synced: all of them, or only the whitelisted VMIDs. In whitelist
 * mode the agent still reports the others, and the server keeps their VMIDs as "skipped": they
 * are offered here to add with one click.
 */
export function WhitelistEditor({
  mode,
  whitelist,
  skipped,
  onMode,
  onAdd,
  onRemove,
  onAddAll,
}: {
  mode: 'all' | 'whitelist';
  whitelist: readonly number[];
  skipped: readonly number[];
  onMode: (mode: 'all' | 'whitelist') => Promise<unknown>;
  onAdd: (vmid: number) => Promise<unknown>;
  onRemove: (vmid: number) => Promise<unknown>;
  onAddAll: (vmids: number[]) => Promise<unknown>;
}) {
  const [text, setText] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // The mode clicked shows at once (optimistic), until the server's answer replaces it.
  const [pendingMode, setPendingMode] = useState<'all' | 'whitelist' | null>(null);
  const offered = skipped.filter((v) => !whitelist.includes(v));

  const run = async (work: () => Promise<unknown>) => {
    setBusy(true);
    try {
      await work();
    } finally {
      setBusy(false);
    }
  };
  const add = async () => {
    const vmid = parseVmid(text);
    if (typeof vmid === 'string') {
      setError(vmid);
      return;
    }
    if (whitelist.includes(vmid)) {
      setError(`${vmid} is already on the whitelist.`);
      return;
    }
    setError(null);
    await run(() => onAdd(vmid));
    setText('');
  };

  return (
    <div className="space-y-4 text-sm">
      <fieldset className="space-y-1" disabled={busy}>
        <legend className="font-medium">Which guests are synced</legend>
        {(
          [
            ['all', 'All guests of the node'],
            ['whitelist', 'Only the VMIDs on the whitelist'],
          ] as const
        ).map(([value, label]) => (
          <label key={value} className="flex items-center gap-2">
            <input
              type="radio"
              name="sync-mode"
              value={value}
              checked={(pendingMode ?? mode) === value}
              onChange={() => {
                setPendingMode(value);
                void run(() => onMode(value)).finally(() => setPendingMode(null));
              }}
            />
            {label}
          </label>
        ))}
      </fieldset>

      <div>
        <h3 className="mb-1 font-medium">
          Whitelist <span className="font-normal text-zinc-500">({whitelist.length})</span>
        </h3>
        {mode === 'all' ? (
          <p className="mb-2 text-xs text-zinc-500">Not in effect while all guests are synced.</p>
        ) : null}
        {whitelist.length === 0 ? (
          <p className="text-zinc-500">No VMIDs yet.</p>
        ) : (
          <ul className="flex flex-wrap gap-1" aria-label="Whitelisted VMIDs">
            {whitelist.map((vmid) => (
              <li
                key={vmid}
                className="inline-flex items-center gap-1 rounded bg-zinc-100 px-2 py-0.5 font-mono text-xs dark:bg-zinc-800"
              >
                {vmid}
                <button
                  type="button"
                  disabled={busy}
                  aria-label={`Remove ${vmid} from the whitelist`}
                  onClick={() => run(() => onRemove(vmid))}
                  className="text-zinc-500 hover:text-red-600"
                >
                  ×
                </button>
              </li>
            ))}
          </ul>
        )}
        <form
          className="mt-2 flex flex-wrap items-start gap-2"
          onSubmit={(event) => {
            event.preventDefault();
            void add();
          }}
        >
          <div>
            <label htmlFor="whitelist-vmid" className="sr-only">
              VMID
            </label>
            <input
              id="whitelist-vmid"
              inputMode="numeric"
              value={text}
              onChange={(event) => setText(event.target.value)}
              placeholder="VMID, e.g. 101"
              aria-invalid={error ? true : undefined}
              aria-describedby={error ? 'whitelist-vmid-error' : undefined}
              className={cx(
                'w-40 rounded-md border bg-white px-2.5 py-1.5 dark:bg-zinc-900',
                error ? 'border-red-500' : 'border-zinc-300 dark:border-zinc-700',
              )}
            />
            {error ? (
              <p
                id="whitelist-vmid-error"
                role="alert"
                className="mt-1 text-xs text-red-600 dark:text-red-400"
              >
                {error}
              </p>
            ) : null}
          </div>
          <Button type="submit" variant="secondary" disabled={busy || text.trim() === ''}>
            Add to whitelist
          </Button>
        </form>
      </div>

      <div>
        <h3 className="mb-1 font-medium">
          Reported but skipped <span className="font-normal text-zinc-500">({offered.length})</span>
        </h3>
        {offered.length === 0 ? (
          <p className="text-zinc-500">
            {mode === 'whitelist'
              ? 'The agent reported no guest outside the whitelist.'
              : 'Every reported guest is synced.'}
          </p>
        ) : (
          <>
            <p className="mb-2 text-xs text-zinc-500">
              Guests the node has that are not synced. Click to add.
            </p>
            <ul className="flex flex-wrap gap-1" aria-label="Skipped VMIDs">
              {offered.map((vmid) => (
                <li key={vmid}>
                  <button
                    type="button"
                    disabled={busy}
                    onClick={() => run(() => onAdd(vmid))}
                    className="rounded border border-dashed border-indigo-400 px-2 py-0.5 font-mono text-xs text-indigo-700 hover:bg-indigo-50 dark:text-indigo-300 dark:hover:bg-indigo-950"
                    aria-label={`Add ${vmid} to the whitelist`}
                  >
                    + {vmid}
                  </button>
                </li>
              ))}
            </ul>
            <Button
              variant="secondary"
              className="mt-2"
              disabled={busy}
              onClick={() => run(() => onAddAll(offered))}
            >
              Add all {offered.length}
            </Button>
          </>
        )}
      </div>
    </div>
  );
}
