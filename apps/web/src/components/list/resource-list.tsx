'use client';

import { useInfiniteQuery } from '@tanstack/react-query';
import { useVirtualizer } from '@tanstack/react-virtual';
import { useRouter } from 'next/navigation';
import {
  type KeyboardEvent,
  type ReactNode,
  useEffect,
  useId,
  useMemo,
  useRef,
  useState,
} from 'react';
import { toast } from 'sonner';
import { ApiError, problemMessage } from '../../api/problem';
import { scopeQuery, useAdminScope } from '../../features/scope/admin-scope';
import { ownerColumn, useOwnerFilter } from '../../features/scope/owner-column';
import { usePollInterval } from '../../lib/live-updates';
import { singular } from '../../lib/plural';
import { Button, cx } from '../ui';
import { BulkBar } from './bulk-bar';
import { ColumnChooser, useVisibleColumns } from './column-chooser';
import { FilterBar } from './filter-bar';
import { apiQuery, nextSort, useListParams } from './list-params';
import type { ApiListQuery, BulkAction, Column, Filter, ListPage } from './types';

/** The first page is small for a quick first paint; the pages after it as large as the API gives. */
const FIRST_PAGE_SIZE = 200;
const NEXT_PAGE_SIZE = 500;
const ROW_HEIGHT = 44;

export interface ResourceListProps<T extends { id: string }, F extends string = 'csv' | 'json'> {
  /** Plural name of the rows ("accounts"): labels, storage keys and file names. */
  entity: string;
  /** The feature's query key; the list lives under [...queryKey, 'list', query]. */
  queryKey: readonly unknown[];
  /**
   * Lists that live updates refresh (VMs, nodes): how often to poll instead while the live
   * stream is down. Unset: never polled.
   */
  pollMs?: number;
  /** How often to poll while live updates are on (nodes: their status also changes with time). */
  pollWhileLiveMs?: number;
  fetchPage: (options: {
    query: ApiListQuery;
    cursor?: string;
    limit: number;
  }) => Promise<ListPage<T>>;
  columns: ReadonlyArray<Column<T>>;
  filters?: readonly Filter[];
  defaultSort: string;
  /** The page a row opens (Enter, click); null: the row opens nothing. */
  rowHref: (row: T) => string | null;
  bulkActions?: ReadonlyArray<BulkAction<T>>;
  /** Downloads everything matching the filters through the API's export route. */
  /** Exports in a format: csv, json, or one of exportFormats. */
  exportAll?: (query: ApiListQuery, format: 'csv' | 'json' | F) => Promise<void>;
  /** Export formats besides CSV and JSON (e.g. the earlier AccountDB's), as buttons. */
  exportFormats?: ReadonlyArray<{ format: F; label: string; title: string }>;
  /** What an empty list with no filters says (how to add the first one). */
  empty: ReactNode;
  searchPlaceholder?: string;
  /** false: the route has no `q` search / no tags / no sort (the audit log). */
  searchable?: boolean;
  taggable?: boolean;
  /**
   * false: the list is not an inventory (the Users page): an admin's "All users" scope adds
   * no owner column and filter to it. Default true.
   */
  scoped?: boolean;
}

/**
 * A list page body: search, filters and sort in the URL; rows loaded page by page (keyset) as
 * the person scrolls and rendered virtually, so ten thousand rows scroll smoothly; column
 * chooser; row selection with bulk actions; keyboard navigation (arrows, Page Up/Down,
 * Home/End, Enter opens, Space selects, "/" searches).
 */
export function ResourceList<T extends { id: string }, F extends string = 'csv' | 'json'>(
  props: ResourceListProps<T, F>,
) {
  const { entity, columns, defaultSort, rowHref } = props;
  const router = useRouter();
  // An admin's "All users" scope: everyone's rows, with an owner column and an owner filter.
  const scope = useAdminScope();
  const all = scope.all && props.scoped !== false;
  const ownerFilter = useOwnerFilter(all);
  const filters = useMemo(
    () => [...(ownerFilter ? [ownerFilter] : []), ...(props.filters ?? [])],
    [ownerFilter, props.filters],
  );
  const filterNames = useMemo(() => filters.map((f) => f.name), [filters]);
  const { params, update } = useListParams({ filterNames, defaultSort });
  const query = useMemo(() => ({ ...apiQuery(params), ...scopeQuery(all) }), [params, all]);
  const [visible, setVisible] = useVisibleColumns(entity, columns);
  const ownerNames = useMemo(
    () => new Map((ownerFilter?.options ?? []).map((o) => [o.value, o.label])),
    [ownerFilter],
  );
  const shown = [
    ...(all ? [ownerColumn<T>(ownerNames)] : []),
    ...columns.filter((c) => visible.has(c.id)),
  ];
  const template = `2.75rem ${shown.map((c) => c.width).join(' ')}`;
  /** What a row is called for a screen reader: its first column's text (a name), else its place. */
  const naming = columns.find((c) => c.text && visible.has(c.id));
  const rowName = (row: T, index: number): string => {
    const text = naming?.text?.(row);
    const name = Array.isArray(text) ? text.join(', ') : (text as string | undefined);
    return name?.trim() ? name.trim() : `row ${index + 1}`;
  };

  const poll = usePollInterval(props.pollMs ?? 0, props.pollWhileLiveMs ?? false);
  const list = useInfiniteQuery({
    queryKey: [...props.queryKey, 'list', query],
    queryFn: ({ pageParam }) =>
      props.fetchPage({
        query,
        limit: pageParam ? NEXT_PAGE_SIZE : FIRST_PAGE_SIZE,
        ...(pageParam ? { cursor: pageParam } : {}),
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.next_cursor ?? undefined,
    refetchInterval: props.pollMs === undefined ? false : poll,
  });
  const rows = useMemo(() => list.data?.pages.flatMap((p) => p.items) ?? [], [list.data]);
  const total = list.data?.pages[0]?.total ?? undefined;

  // Selection: by id, keeping the row so bulk actions see what was selected.
  const [selected, setSelected] = useState<Map<string, T>>(new Map());
  const anchor = useRef<number | null>(null);
  // A new query is a new list: what was selected in the old one is forgotten.
  // biome-ignore lint/correctness/useExhaustiveDependencies: reset on a new query only
  useEffect(() => {
    setSelected(new Map());
    setActive(0);
  }, [JSON.stringify(query)]);

  const toggle = (index: number, range: boolean) => {
    const row = rows[index];
    if (!row) return;
    setSelected((current) => {
      const next = new Map(current);
      if (range && anchor.current !== null) {
        const [from, to] = [Math.min(anchor.current, index), Math.max(anchor.current, index)];
        for (let i = from; i <= to; i++) {
          const r = rows[i];
          if (r) next.set(r.id, r);
        }
      } else if (next.has(row.id)) next.delete(row.id);
      else next.set(row.id, row);
      return next;
    });
    anchor.current = index;
  };
  const allLoadedSelected = rows.length > 0 && rows.every((r) => selected.has(r.id));
  const toggleAll = () =>
    setSelected(allLoadedSelected ? new Map() : new Map(rows.map((r) => [r.id, r])));

  // Virtual rows inside the scrolling grid; the next page loads near the end.
  const scroller = useRef<HTMLDivElement>(null);
  const virtual = useVirtualizer({
    count: rows.length,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    overscan: 12,
  });
  const items = virtual.getVirtualItems();
  const lastIndex = items.at(-1)?.index ?? 0;
  useEffect(() => {
    if (lastIndex >= rows.length - 30 && list.hasNextPage && !list.isFetchingNextPage) {
      void list.fetchNextPage();
    }
  }, [lastIndex, rows.length, list.hasNextPage, list.isFetchingNextPage, list.fetchNextPage]);

  // Keyboard: the grid holds focus and an active row (aria-activedescendant).
  const gridId = useId();
  const [active, setActive] = useState(0);
  const move = (to: number) => {
    const index = Math.max(0, Math.min(rows.length - 1, to));
    setActive(index);
    virtual.scrollToIndex(index, { align: 'auto' });
  };
  const page = Math.max(1, Math.floor((scroller.current?.clientHeight ?? 400) / ROW_HEIGHT) - 1);
  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (rows.length === 0) return;
    const target = keyTarget(event.key, { active, page, last: rows.length - 1 });
    if (target !== undefined) {
      event.preventDefault();
      move(target);
    } else if (event.key === 'Enter' || event.key === ' ') {
      event.preventDefault();
      const row = rows[active];
      if (event.key === ' ') toggle(active, event.shiftKey);
      else if (row) {
        const href = rowHref(row);
        if (href) router.push(href);
      }
    }
  };

  const filtered =
    params.q !== '' || params.tags.length > 0 || Object.keys(params.filters).length > 0;
  const error = list.error;

  return (
    <div className="space-y-3">
      <FilterBar
        entity={entity}
        params={params}
        filters={filters}
        onChange={update}
        {...(props.searchPlaceholder ? { placeholder: props.searchPlaceholder } : {})}
        searchable={props.searchable ?? true}
        taggable={props.taggable ?? true}
        right={
          <>
            <ColumnChooser columns={columns} visible={visible} onChange={setVisible} />
            {props.exportAll ? (
              <ExportMenu
                entity={entity}
                run={(f) => props.exportAll?.(query, f)}
                more={props.exportFormats ?? []}
              />
            ) : null}
          </>
        }
      />
      <div className="flex min-h-8 flex-wrap items-center justify-between gap-2 text-sm text-zinc-500">
        <p aria-live="polite" data-testid={`${entity}-count`}>
          {list.isPending
            ? 'Loading…'
            : `${countText(rows.length, total, list.hasNextPage)} ${countNoun(rows.length, total, list.hasNextPage, entity)}${filtered ? ' matching' : ''}`}
        </p>
        {selected.size > 0 ? (
          <BulkBar
            entity={entity}
            selected={[...selected.values()]}
            actions={props.bulkActions ?? []}
            columns={columns}
            onDone={() => setSelected(new Map())}
          />
        ) : null}
      </div>
      {error ? (
        <div
          role="alert"
          className="rounded-md border border-red-300 bg-red-50 p-3 text-sm text-red-800 dark:border-red-900 dark:bg-red-950 dark:text-red-200"
        >
          {error instanceof ApiError
            ? problemMessage(error.problem, error.message)
            : 'The list could not be loaded.'}{' '}
          <Button variant="ghost" onClick={() => list.refetch()}>
            Try again
          </Button>
        </div>
      ) : null}
      {!list.isPending && rows.length === 0 && !error ? (
        filtered ? (
          <div className="rounded-lg border border-dashed border-zinc-300 p-8 text-center text-sm dark:border-zinc-700">
            No {entity} match these filters.{' '}
            <button
              type="button"
              className="text-indigo-600 underline dark:text-indigo-400"
              onClick={() =>
                update({
                  q: '',
                  tags: [],
                  filters: Object.fromEntries(filterNames.map((n) => [n, null])),
                })
              }
            >
              Clear filters
            </button>
          </div>
        ) : (
          props.empty
        )
      ) : (
        <div
          ref={scroller}
          className="relative h-[calc(100dvh-17rem)] min-h-80 overflow-auto rounded-lg border border-zinc-200 bg-white dark:border-zinc-800 dark:bg-zinc-900"
        >
          <table
            id={gridId}
            // biome-ignore lint/a11y/noNoninteractiveElementToInteractiveRole: the WAI-ARIA data grid pattern, a table navigated by keyboard
            role="grid"
            aria-label={entity}
            aria-rowcount={total === undefined ? -1 : total + 1}
            aria-multiselectable="true"
            aria-busy={list.isPending || list.isFetchingNextPage}
            aria-activedescendant={rows[active] ? `${gridId}-row-${active}` : undefined}
            tabIndex={0}
            onKeyDown={onKeyDown}
            className="grid min-w-max focus-visible:outline-2 focus-visible:-outline-offset-2 focus-visible:outline-indigo-500"
          >
            <thead className="sticky top-0 z-10 grid">
              <tr
                aria-rowindex={1}
                className="grid border-b border-zinc-200 bg-zinc-50 text-left text-xs font-semibold tracking-wide text-zinc-500 uppercase dark:border-zinc-800 dark:bg-zinc-950"
                style={{ gridTemplateColumns: template }}
              >
                <th scope="col" className="flex items-center justify-center py-2">
                  <input
                    type="checkbox"
                    aria-label={`Select all loaded ${entity}`}
                    checked={allLoadedSelected}
                    onChange={toggleAll}
                    className="h-4 w-4"
                  />
                </th>
                {shown.map((column) => (
                  <SortHeader
                    key={column.id}
                    column={column}
                    sort={params.sort}
                    onSort={() => update({ sort: nextSort(params.sort, column.id, defaultSort) })}
                  />
                ))}
              </tr>
            </thead>
            <tbody className="relative grid" style={{ height: virtual.getTotalSize() }}>
              {items.map((item) => {
                const row = rows[item.index] as T;
                const isSelected = selected.has(row.id);
                return (
                  <tr
                    key={row.id}
                    id={`${gridId}-row-${item.index}`}
                    aria-rowindex={item.index + 2}
                    aria-selected={isSelected}
                    data-active={item.index === active || undefined}
                    className={cx(
                      'absolute top-0 left-0 grid w-full cursor-pointer items-center border-b border-zinc-100 text-sm dark:border-zinc-800/60',
                      isSelected
                        ? 'bg-indigo-50 dark:bg-indigo-950/40'
                        : 'hover:bg-zinc-50 dark:hover:bg-zinc-800/40',
                      item.index === active && 'outline-2 -outline-offset-2 outline-indigo-400',
                    )}
                    style={{
                      gridTemplateColumns: template,
                      height: ROW_HEIGHT,
                      transform: `translateY(${item.start}px)`,
                    }}
                    onClick={(event) => {
                      setActive(item.index);
                      if ((event.target as HTMLElement).closest('a,button,input')) return;
                      const href = rowHref(row);
                      if (href) router.push(href);
                    }}
                  >
                    <td className="flex items-center justify-center">
                      <input
                        type="checkbox"
                        tabIndex={-1}
                        aria-label={`Select ${rowName(row, item.index)}`}
                        checked={isSelected}
                        onChange={() => undefined}
                        onClick={(event) => {
                          event.stopPropagation();
                          setActive(item.index);
                          toggle(item.index, event.shiftKey);
                        }}
                        className="h-4 w-4"
                      />
                    </td>
                    {shown.map((column) => (
                      <td key={column.id} className="min-w-0 truncate px-3">
                        {column.cell(row)}
                      </td>
                    ))}
                  </tr>
                );
              })}
            </tbody>
          </table>
          {list.isPending ? <LoadingRows template={template} count={8} /> : null}
        </div>
      )}
      <p className="hidden text-xs text-zinc-500 sm:block">
        Keyboard: ↑ ↓ Page Up/Down Home End move, Enter opens, Space selects (Shift for a range), /
        searches.
      </p>
    </div>
  );
}

function SortHeader<T>({
  column,
  sort,
  onSort,
}: {
  column: Column<T>;
  sort: string;
  onSort: () => void;
}) {
  const direction =
    sort === column.id ? 'ascending' : sort === `-${column.id}` ? 'descending' : undefined;
  return (
    <th
      scope="col"
      aria-sort={direction ?? (column.sortable ? 'none' : undefined)}
      className="px-3 py-2"
    >
      {column.sortable ? (
        <button
          type="button"
          onClick={onSort}
          className="inline-flex items-center gap-1 uppercase hover:text-zinc-900 dark:hover:text-white"
        >
          {column.header}
          <span aria-hidden="true">
            {direction === 'ascending' ? '▲' : direction === 'descending' ? '▼' : '↕'}
          </span>
        </button>
      ) : (
        column.header
      )}
    </th>
  );
}

function LoadingRows({ template, count }: { template: string; count: number }) {
  return (
    <div aria-hidden="true">
      {Array.from({ length: count }, (_, i) => `loading-${i}`).map((key) => (
        <div
          key={key}
          className="grid items-center border-b border-zinc-100 dark:border-zinc-800/60"
          style={{ gridTemplateColumns: template, height: ROW_HEIGHT }}
        >
          <div />
          <div className="mx-3 h-3 animate-pulse rounded bg-zinc-200 dark:bg-zinc-800" />
        </div>
      ))}
    </div>
  );
}

function ExportMenu<F extends string>({
  entity,
  run,
  more,
}: {
  entity: string;
  run: (format: 'csv' | 'json' | F) => Promise<void> | undefined;
  more: ReadonlyArray<{ format: F; label: string; title: string }>;
}) {
  const [busy, setBusy] = useState(false);
  const go = async (format: 'csv' | 'json' | F) => {
    setBusy(true);
    try {
      await run(format);
    } catch (error) {
      toast.error(error instanceof Error ? error.message : `The ${entity} could not be exported.`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <fieldset className="flex items-center gap-1">
      <legend className="sr-only">Export {entity}</legend>
      <Button
        variant="secondary"
        disabled={busy}
        onClick={() => go('csv')}
        title={`Export all matching ${entity} as CSV`}
      >
        Export CSV
      </Button>
      <Button
        variant="secondary"
        disabled={busy}
        onClick={() => go('json')}
        title={`Export all matching ${entity} as JSON`}
      >
        JSON
      </Button>
      {more.map((m) => (
        <Button
          key={m.format}
          variant="secondary"
          disabled={busy}
          onClick={() => go(m.format)}
          title={m.title}
        >
          {m.label}
        </Button>
      ))}
    </fieldset>
  );
}

/** "120", "200 of 450", or "200+" where the route does not count. */
/** The list's noun after countText: singular when exactly one row is counted ("1 VM"). */
function countNoun(
  loaded: number,
  total: number | undefined,
  more: boolean,
  entity: string,
): string {
  const one = total === undefined ? loaded === 1 && !more : total === 1;
  return one ? singular(entity) : entity;
}

function countText(loaded: number, total: number | undefined, more: boolean): string {
  if (total === undefined) return `${loaded}${more ? '+' : ''}`;
  return loaded === total ? String(total) : `${loaded} of ${total}`;
}

/** The row a navigation key moves to, or undefined for other keys. */
function keyTarget(
  key: string,
  at: { active: number; page: number; last: number },
): number | undefined {
  switch (key) {
    case 'ArrowDown':
      return at.active + 1;
    case 'ArrowUp':
      return at.active - 1;
    case 'PageDown':
      return at.active + at.page;
    case 'PageUp':
      return at.active - at.page;
    case 'Home':
      return 0;
    case 'End':
      return at.last;
    default:
      return undefined;
  }
}
