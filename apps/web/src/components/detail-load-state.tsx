import Link from 'next/link';
import { ApiError } from '../api/problem';
import { EmptyState } from './ui';

/**
 * What a detail page shows before its record is there: "Loading…", or why it is not (another
 * user's record answers 404 like a missing one), with the way back to the list.
 */
export function DetailLoadState({
  pending,
  error,
  what,
  listHref,
  listLabel,
}: {
  pending: boolean;
  error: Error | null;
  /** "Account", "Node", … */
  what: string;
  listHref: string;
  listLabel: string;
}) {
  if (pending) return <p className="text-sm text-zinc-500">Loading…</p>;
  const notFound = error instanceof ApiError && error.status === 404;
  return (
    <EmptyState
      title={notFound ? `${what} not found` : `The ${what.toLowerCase()} could not be loaded`}
    >
      {notFound ? 'It does not exist, or it is not yours. ' : `${error?.message ?? ''} `}
      <Link href={listHref} className="text-indigo-600 underline dark:text-indigo-400">
        Back to {listLabel}
      </Link>
    </EmptyState>
  );
}
