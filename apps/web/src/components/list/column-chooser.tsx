'use client';

import { useEffect, useRef, useState } from 'react';
import type { Column } from './types';

const storageKey = (entity: string) => `accountdb.columns.${entity}`;

/** The visible columns of a list, remembered per list in this browser. */
export function useVisibleColumns<T>(
  entity: string,
  columns: ReadonlyArray<Column<T>>,
): [Set<string>, (next: Set<string>) => void] {
  const defaults = () => new Set(columns.filter((c) => !c.defaultHidden).map((c) => c.id));
  const [visible, setVisible] = useState<Set<string>>(defaults);
  // biome-ignore lint/correctness/useExhaustiveDependencies: read once per list
  useEffect(() => {
    try {
      const saved = JSON.parse(localStorage.getItem(storageKey(entity)) ?? 'null') as unknown;
      if (Array.isArray(saved)) {
        const known = new Set(columns.map((c) => c.id));
        const ids = saved.filter((id): id is string => typeof id === 'string' && known.has(id));
        if (ids.length > 0) setVisible(new Set(ids));
      }
    } catch {
      // A broken entry is as good as none.
    }
  }, [entity]);
  const update = (next: Set<string>) => {
    setVisible(next);
    localStorage.setItem(storageKey(entity), JSON.stringify([...next]));
  };
  return [visible, update];
}

/** "Columns" menu: a checkbox per column; the last visible column cannot be turned off. */
export function ColumnChooser<T>({
  columns,
  visible,
  onChange,
}: {
  columns: ReadonlyArray<Column<T>>;
  visible: Set<string>;
  onChange: (next: Set<string>) => void;
}) {
  const ref = useRef<HTMLDetailsElement>(null);
  useEffect(() => {
    const close = (event: Event) => {
      const el = ref.current;
      if (!el?.open) return;
      if (
        event instanceof KeyboardEvent ? event.key === 'Escape' : !el.contains(event.target as Node)
      )
        el.open = false;
    };
    document.addEventListener('click', close);
    document.addEventListener('keydown', close);
    return () => {
      document.removeEventListener('click', close);
      document.removeEventListener('keydown', close);
    };
  }, []);
  return (
    <details ref={ref} className="relative">
      <summary className="inline-flex cursor-pointer list-none items-center rounded-md border border-zinc-300 bg-white px-3 py-2 text-sm font-medium hover:bg-zinc-50 dark:border-zinc-700 dark:bg-zinc-900 dark:hover:bg-zinc-800">
        Columns
      </summary>
      <fieldset className="absolute right-0 z-20 mt-2 max-h-96 w-56 overflow-auto rounded-md border border-zinc-200 bg-white p-2 text-sm shadow-lg dark:border-zinc-800 dark:bg-zinc-900">
        <legend className="sr-only">Visible columns</legend>
        {columns.map((column) => {
          const checked = visible.has(column.id);
          return (
            <label
              key={column.id}
              className="flex items-center gap-2 rounded px-2 py-1.5 hover:bg-zinc-100 dark:hover:bg-zinc-800"
            >
              <input
                type="checkbox"
                checked={checked}
                disabled={checked && visible.size === 1}
                onChange={() => {
                  const next = new Set(visible);
                  if (checked) next.delete(column.id);
                  else next.add(column.id);
                  onChange(next);
                }}
              />
              {column.header}
            </label>
          );
        })}
      </fieldset>
    </details>
  );
}
