'use client';

import { usePathname, useRouter, useSearchParams } from 'next/navigation';
import { useCallback, useMemo } from 'react';

/** The query of a list page as it stands in the URL: search, sort and filters. */
export interface ListParams {
  q: string;
  sort: string;
  /** Whether the URL names the sort; a search without one lists the best matches first. */
  sortChosen: boolean;
  /** Filter name → value, only the filters the page knows, as strings from the URL. */
  filters: Record<string, string>;
  /** Tags (repeatable `tag=` in the URL). */
  tags: string[];
}

/**
 * Reads and writes a list's search, sort and filters in the URL (so a view can be shared or
 * bookmarked and survives a reload). Unknown parameters are ignored; writing replaces the
 * history entry, so typing in the search box does not flood the back button.
 */
export function useListParams(options: { filterNames: readonly string[]; defaultSort: string }) {
  const search = useSearchParams();
  const router = useRouter();
  const pathname = usePathname();
  const { filterNames, defaultSort } = options;

  const params: ListParams = useMemo(() => {
    const filters: Record<string, string> = {};
    for (const name of filterNames) {
      const value = search.get(name);
      if (value) filters[name] = value;
    }
    return {
      q: search.get('q') ?? '',
      sort: search.get('sort') || defaultSort,
      sortChosen: Boolean(search.get('sort')),
      filters,
      tags: search.getAll('tag').filter(Boolean),
    };
  }, [search, filterNames, defaultSort]);

  const update = useCallback(
    (
      change: Partial<Omit<ListParams, 'filters'>> & { filters?: Record<string, string | null> },
    ) => {
      const next = new URLSearchParams(search.toString());
      if (change.q !== undefined) setOrDelete(next, 'q', change.q.trim() ? change.q : null);
      if (change.sort !== undefined)
        setOrDelete(next, 'sort', change.sort === defaultSort ? null : change.sort);
      for (const [name, value] of Object.entries(change.filters ?? {})) {
        setOrDelete(next, name, value);
      }
      if (change.tags !== undefined) {
        next.delete('tag');
        for (const tag of change.tags) next.append('tag', tag);
      }
      const query = next.toString();
      router.replace(query ? `${pathname}?${query}` : pathname, { scroll: false });
    },
    [search, router, pathname, defaultSort],
  );

  return { params, update };
}

function setOrDelete(params: URLSearchParams, name: string, value: string | null): void {
  if (value === null || value === '') params.delete(name);
  else params.set(name, value);
}

/**
 * The API query of a list: search, sort, tags and filters, without empty values. A search
 * with no sort chosen leaves the order to the API, which then ranks the matches.
 */
export function apiQuery(params: ListParams): Record<string, string | string[]> {
  const query: Record<string, string | string[]> = { ...params.filters };
  const q = params.q.trim();
  if (!q || params.sortChosen) query.sort = params.sort;
  if (q) query.q = q;
  if (params.tags.length > 0) query.tag = params.tags;
  return query;
}

/** Sorting by a column: first click ascending, second descending, third back to default. */
export function nextSort(current: string, column: string, defaultSort: string): string {
  if (current === column) return `-${column}`;
  if (current === `-${column}`) return defaultSort;
  return column;
}
