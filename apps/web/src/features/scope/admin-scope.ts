'use client';

import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useCallback } from 'react';
import { useSession } from '../../lib/api';

/**
 * An admin's scope (issue 16): their own inventory by default, every user's after choosing
 * "All users", kept in the URL as `scope=all` so that a link or a reload keeps it. The API
 * takes the same parameter; a user who is not an admin has no scope to choose.
 */
export function useAdminScope() {
  const current = useSession();
  const search = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const isAdmin = current?.user.role === 'admin';
  const all = isAdmin && search.get('scope') === 'all';

  const setAll = useCallback(
    (next: boolean) => {
      const params = new URLSearchParams(search.toString());
      if (next) params.set('scope', 'all');
      else {
        params.delete('scope');
        // One user's objects only make sense among everyone's.
        params.delete('owner_id');
      }
      const query = params.toString();
      router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
    },
    [search, router, pathname],
  );
  return { isAdmin, all, setAll };
}

/** A link that keeps the scope: `/accounts` → `/accounts?scope=all` while all users are shown. */
export function scopedHref(href: string, all: boolean): string {
  if (!all) return href;
  return `${href}${href.includes('?') ? '&' : '?'}scope=all`;
}

/** The API query of the scope: `{ scope: 'all' }` while all users are shown, else nothing. */
export function scopeQuery(all: boolean): { scope?: 'all' } {
  return all ? { scope: 'all' } : {};
}
