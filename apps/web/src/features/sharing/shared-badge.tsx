'use client';

/** Who shared an object with you, as the API gives it (shared_by). */
export interface SharedBy {
  id: string;
  username: string;
}

/**
 * "Shared by <owner>" on an object another user shared with you (lists and detail pages),
 * with "read-only" when the share does not allow changes. Nothing on your own objects.
 */
export function SharedBadge({
  sharedBy,
  permission,
}: {
  sharedBy?: SharedBy | undefined;
  permission?: 'read' | 'write' | undefined;
}) {
  if (!sharedBy) return null;
  return (
    <span
      data-testid="shared-badge"
      title={
        permission === 'write'
          ? `${sharedBy.username} shared this with you; you may change it`
          : `${sharedBy.username} shared this with you, read-only`
      }
      className="inline-flex items-center gap-1 rounded-full bg-sky-100 px-2 py-0.5 text-xs font-medium text-sky-800 dark:bg-sky-950 dark:text-sky-200"
    >
      Shared by {sharedBy.username}
      {permission === 'write' ? null : <span className="opacity-75">· read-only</span>}
    </span>
  );
}

/** The Shared filter of the accounts, VMs and nodes lists: All (none) / Mine / Shared with me. */
export const SHARED_FILTER = {
  name: 'shared',
  label: 'Shared',
  options: [
    { value: 'exclude', label: 'Mine' },
    { value: 'only', label: 'Shared with me' },
  ],
};

/** The banner of a detail page of an object shared with you. */
export function SharedBanner({
  sharedBy,
  permission,
  secrets,
}: {
  sharedBy?: SharedBy | undefined;
  permission?: 'read' | 'write' | undefined;
  secrets?: boolean | undefined;
}) {
  if (!sharedBy) return null;
  return (
    <div
      role="note"
      data-testid="shared-banner"
      className="rounded-md border border-sky-300 bg-sky-50 px-3 py-2 text-sm text-sky-900 dark:border-sky-700 dark:bg-sky-950 dark:text-sky-100"
    >
      <span className="font-semibold">Shared by {sharedBy.username}</span>
      {permission === 'write' ? ': you may change it' : ': read-only'}
      {secrets === undefined ? '' : secrets ? ', with its secrets' : ', without its secrets'}. Only{' '}
      {sharedBy.username} can delete or share it.
    </div>
  );
}
