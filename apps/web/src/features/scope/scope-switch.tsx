'use client';

import { cx } from '../../components/ui';

/**
 * "My inventory" / "All users": an admin's scope switch (a two-button group). Lists, the
 * dashboard and the live feed then show everyone's objects, each with its owner.
 */
export function ScopeSwitch({ all, onChange }: { all: boolean; onChange: (all: boolean) => void }) {
  const option = (value: boolean, label: string) => (
    <button
      type="button"
      aria-pressed={all === value}
      onClick={() => onChange(value)}
      className={cx(
        'px-2.5 py-1 text-xs font-medium',
        all === value
          ? 'bg-indigo-600 text-white'
          : 'text-zinc-600 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800',
      )}
    >
      {label}
    </button>
  );
  return (
    <fieldset
      aria-label="Scope"
      title="Admins see their own inventory unless they choose All users"
      className="flex overflow-hidden rounded-md border border-zinc-300 dark:border-zinc-700"
    >
      {option(false, 'My inventory')}
      {option(true, 'All users')}
    </fieldset>
  );
}
