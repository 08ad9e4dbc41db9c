import type { ReactNode } from 'react';
import { ago, duration } from '../lib/time';
import { StatusBadge } from './ui';

export interface TimelineEntry {
  id: string;
  at: string;
  status: string;
  from?: string | null;
  detail?: ReactNode;
}

/**
 * Status history, newest first: each entry with its status, the one before, when, and how
 * long the status lasted (until the next entry, or until now for the newest).
 */
export function StatusTimeline({
  entries,
  now = Date.now(),
}: {
  entries: TimelineEntry[];
  now?: number;
}) {
  if (entries.length === 0)
    return <p className="text-sm text-zinc-500">No status changes recorded yet.</p>;
  return (
    <ol
      className="relative ml-2 border-l border-zinc-200 dark:border-zinc-800"
      aria-label="Status history"
    >
      {entries.map((entry, i) => {
        const until = i === 0 ? now : new Date(entries[i - 1]?.at ?? now).getTime();
        const lasted = Math.max(0, Math.round((until - new Date(entry.at).getTime()) / 1000));
        return (
          <li key={entry.id} className="mb-4 ml-4">
            <span className="absolute -left-1.5 mt-1.5 h-3 w-3 rounded-full border border-white bg-indigo-500 dark:border-zinc-900" />
            <div className="flex flex-wrap items-center gap-2 text-sm">
              {entry.from ? (
                <>
                  <StatusBadge status={entry.from} />
                  <span aria-hidden="true">→</span>
                  <span className="sr-only">to</span>
                </>
              ) : null}
              <StatusBadge status={entry.status} />
              <time
                dateTime={entry.at}
                title={new Date(entry.at).toLocaleString()}
                className="text-zinc-500"
              >
                {ago(entry.at, now)}
              </time>
              <span className="text-xs text-zinc-400">
                {i === 0 ? `for ${duration(lasted)} so far` : `lasted ${duration(lasted)}`}
              </span>
            </div>
            {entry.detail ? <div className="mt-1 text-xs text-zinc-500">{entry.detail}</div> : null}
          </li>
        );
      })}
    </ol>
  );
}
