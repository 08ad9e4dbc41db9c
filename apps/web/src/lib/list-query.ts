import type { ApiListQuery } from '../components/list/types';

/** The query of one list page: the list's filters, the page size and the cursor if any. */
export function pageQuery<Q>(options: { query: ApiListQuery; cursor?: string; limit: number }): Q {
  return {
    ...options.query,
    limit: options.limit,
    // The first page asks for the count (total); the pages after it do not (null).
    ...(options.cursor ? { cursor: options.cursor } : { count: true }),
  } as Q;
}
