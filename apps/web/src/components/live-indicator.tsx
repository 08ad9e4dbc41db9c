'use client';

import { useLiveState } from '../lib/live-updates';

const TEXT = {
  on: { label: 'Live', title: 'Live updates are on: changes show as they happen.' },
  connecting: { label: 'Connecting', title: 'Opening live updates…' },
  off: {
    label: 'Polling',
    title:
      'Live updates are off (the connection failed); pages refresh every few seconds and the connection is tried again.',
  },
} as const;

/** Shows whether this tab gets live updates or falls back to polling. */
export function LiveIndicator() {
  const state = useLiveState();
  const { label, title } = TEXT[state];
  return (
    <span
      data-testid="live-indicator"
      data-state={state}
      title={title}
      role="status"
      aria-label={title}
      className="hidden items-center gap-1.5 rounded-full px-2 py-0.5 text-xs font-medium text-zinc-600 sm:inline-flex dark:text-zinc-300"
    >
      <span
        aria-hidden="true"
        className={
          state === 'on'
            ? 'h-2 w-2 rounded-full bg-emerald-500'
            : state === 'off'
              ? 'h-2 w-2 rounded-full bg-amber-500'
              : 'h-2 w-2 rounded-full bg-zinc-400'
        }
      />
      {label}
    </span>
  );
}
