'use client';

import Link from 'next/link';

/** The owner of an object, as the API gives it for another user's object (issue 16). */
export interface Owner {
  id: string;
  username: string;
}

/**
 * Shown at the top of another user's object (an admin opened it): whose it is, and that
 * revealing its secrets asks for a reason that the owner sees in their audit log.
 */
export function OwnerBanner({ owner }: { owner?: Owner | undefined }) {
  if (!owner) return null;
  return (
    <div
      role="note"
      data-testid="owner-banner"
      className="rounded-md border border-amber-300 bg-amber-50 px-3 py-2 text-sm text-amber-900 dark:border-amber-700 dark:bg-amber-950 dark:text-amber-100"
    >
      This belongs to{' '}
      <Link href={`/admin/users/${owner.id}`} className="font-semibold underline">
        {owner.username}
      </Link>
      , not to you. Revealing its secrets asks for a reason, which {owner.username} sees in their
      audit log.
    </div>
  );
}
