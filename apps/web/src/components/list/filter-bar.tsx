'use client';

import { type ReactNode, useEffect, useRef, useState } from 'react';
import { cx } from '../ui';
import type { ListParams } from './list-params';
import type { Filter } from './types';

const CONTROL =
  'rounded-md border border-zinc-300 bg-white px-2.5 py-2 text-sm dark:border-zinc-700 dark:bg-zinc-900 focus:outline-2 focus:outline-indigo-500';

/**
 * Search (debounced into the URL), one select per filter, a tag filter and "Clear". "/"
 * anywhere on the page (outside a text field) jumps to the search box.
 */
export function FilterBar({
  entity,
  params,
  filters,
  onChange,
  placeholder,
  right,
  searchable = true,
  taggable = true,
}: {
  entity: string;
  params: ListParams;
  filters: readonly Filter[];
  onChange: (change: {
    q?: string;
    tags?: string[];
    filters?: Record<string, string | null>;
  }) => void;
  placeholder?: string;
  right?: ReactNode;
  searchable?: boolean;
  taggable?: boolean;
}) {
  const [q, setQ] = useState(params.q);
  const [tag, setTag] = useState('');
  const searchRef = useRef<HTMLInputElement>(null);

  // The URL can change from elsewhere (back button, a link): follow it.
  useEffect(() => setQ(params.q), [params.q]);
  // biome-ignore lint/correctness/useExhaustiveDependencies: debounce on the typed text only
  useEffect(() => {
    if (q === params.q) return;
    const timer = setTimeout(() => onChange({ q }), 300);
    return () => clearTimeout(timer);
  }, [q]);
  useEffect(() => {
    const onKey = (event: KeyboardEvent) => {
      const target = event.target as HTMLElement | null;
      if (event.key !== '/' || target?.closest('input,textarea,select,[contenteditable]')) return;
      event.preventDefault();
      searchRef.current?.focus();
    };
    document.addEventListener('keydown', onKey);
    return () => document.removeEventListener('keydown', onKey);
  }, []);

  const active =
    params.q !== '' || params.tags.length > 0 || Object.keys(params.filters).length > 0;
  const addTag = () => {
    const value = tag.trim();
    if (value && !params.tags.includes(value)) onChange({ tags: [...params.tags, value] });
    setTag('');
  };

  return (
    <search className="flex flex-wrap items-end gap-2" aria-label={`Filter ${entity}`}>
      {searchable ? (
        <label className="min-w-48 flex-1">
          <span className="sr-only">Search {entity}</span>
          <input
            ref={searchRef}
            type="search"
            value={q}
            onChange={(event) => setQ(event.target.value)}
            placeholder={placeholder ?? `Search ${entity}… (press /)`}
            className={cx(CONTROL, 'w-full')}
          />
        </label>
      ) : null}
      {filters.map((filter) =>
        filter.kind === 'date' ? (
          <label key={filter.name} className="flex items-center gap-1 text-sm">
            <span className="text-zinc-500">{filter.label}</span>
            <input
              type="date"
              value={params.filters[filter.name] ?? ''}
              onChange={(event) =>
                onChange({ filters: { [filter.name]: event.target.value || null } })
              }
              className={CONTROL}
            />
          </label>
        ) : (
          <label key={filter.name}>
            <span className="sr-only">{filter.label}</span>
            <select
              value={params.filters[filter.name] ?? ''}
              onChange={(event) =>
                onChange({ filters: { [filter.name]: event.target.value || null } })
              }
              className={CONTROL}
              aria-label={filter.label}
            >
              <option value="">{filter.label}: any</option>
              {filter.options.map((option) => (
                <option key={option.value} value={option.value}>
                  {filter.label}: {option.label}
                </option>
              ))}
            </select>
          </label>
        ),
      )}
      {taggable ? (
        <label>
          <span className="sr-only">Filter by tag</span>
          <input
            value={tag}
            onChange={(event) => setTag(event.target.value)}
            onKeyDown={(event) => {
              if (event.key === 'Enter') {
                event.preventDefault();
                addTag();
              }
            }}
            onBlur={addTag}
            placeholder="Tag…"
            className={cx(CONTROL, 'w-28')}
          />
        </label>
      ) : null}
      {params.tags.map((t) => (
        <button
          key={t}
          type="button"
          onClick={() => onChange({ tags: params.tags.filter((x) => x !== t) })}
          className="rounded-full bg-indigo-100 px-2.5 py-1 text-xs text-indigo-800 dark:bg-indigo-950 dark:text-indigo-200"
          aria-label={`Remove tag filter ${t}`}
        >
          #{t} ×
        </button>
      ))}
      {active ? (
        <button
          type="button"
          className="px-2 py-2 text-sm text-indigo-600 hover:underline dark:text-indigo-400"
          onClick={() =>
            onChange({
              q: '',
              tags: [],
              filters: Object.fromEntries(filters.map((f) => [f.name, null])),
            })
          }
        >
          Clear
        </button>
      ) : null}
      <div className="ml-auto flex items-center gap-2">{right}</div>
    </search>
  );
}
