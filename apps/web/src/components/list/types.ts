import type { ReactNode } from 'react';

/** One column of a list page. `id` is also the API's sort key when the column is sortable. */
export interface Column<T> {
  id: string;
  header: string;
  cell: (row: T) => ReactNode;
  /** The CSS grid track of the column, e.g. "minmax(12rem, 2fr)" or "8rem". */
  width: string;
  sortable?: boolean;
  /** Hidden until the person turns it on in the column chooser. */
  defaultHidden?: boolean;
  /** The plain text of a cell (a list: its elements), for CSV of the selected rows (else the value is left out). */
  text?: (row: T) => string | readonly string[];
}

/** A filter; its name is the API's query parameter. A select, or a date (YYYY-MM-DD). */
export interface Filter {
  name: string;
  label: string;
  options: ReadonlyArray<{ value: string; label: string }>;
  kind?: 'select' | 'date';
}

/** What a bulk action asks before it runs: a value typed in or picked from a list. */
export interface BulkInput {
  label: string;
  placeholder?: string;
  options?: ReadonlyArray<{ value: string; label: string }>;
}

/** An action on the selected rows; `run` answers the message of the success toast. */
export interface BulkAction<T> {
  id: string;
  label: string;
  destructive?: boolean;
  input?: BulkInput;
  /** A confirmation with the consequence spelled out, before the action runs. */
  confirm?: (count: number) => { title: string; message: ReactNode; confirmLabel: string };
  run: (rows: T[], value: string | undefined, progress: (done: number) => void) => Promise<string>;
}

/** A page of a keyset-paginated list, as every list route answers. */
export interface ListPage<T> {
  items: T[];
  next_cursor: string | null;
  /**
   * All matches across pages: on the first page (it asks with count=true); null on the pages
   * after it, absent where the route does not count (the audit log).
   */
  total?: number | null;
}

export type ApiListQuery = Record<string, string | string[]>;
