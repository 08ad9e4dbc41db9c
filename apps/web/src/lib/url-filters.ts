'use client';

import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useCallback, useMemo } from 'react';

/**
 * List filters that are typed in rather than picked (a MAC address, a currency, a linked
 * account), kept in the URL next to ResourceList's own parameters so a filtered view can be
 * shared and survives a reload. `values` holds only the names asked for that are set.
 */
export function useUrlFilters<N extends string>(names: readonly N[]) {
  const search = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const key = names.map((n) => `${n}=${search.get(n) ?? ''}`).join('&');
  // biome-ignore lint/correctness/useExhaustiveDependencies: recomputed when one of the values changes
  const values = useMemo(() => {
    const out: Partial<Record<N, string>> = {};
    for (const name of names) {
      const value = search.get(name);
      if (value) out[name] = value;
    }
    return out;
  }, [key]);

  /** Sets (a string) or removes (null) each named parameter, keeping the others. */
  const set = useCallback(
    (change: Partial<Record<N, string | null>>) => {
      const next = new URLSearchParams(search.toString());
      for (const [name, value] of Object.entries(change) as Array<[N, string | null]>) {
        if (value) next.set(name, value);
        else next.delete(name);
      }
      const query = next.toString();
      router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
    },
    [search, router, pathname],
  );
  return { values, set };
}
