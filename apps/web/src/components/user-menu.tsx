'use client';

import Link from 'next/link';
import { useEffect, useRef } from 'react';
import type { User } from '../api/session';

/** The logged-in user with their role, and the way out. */
export function UserMenu({ user }: { user: User }) {
  const ref = useRef<HTMLDetailsElement>(null);

  // Close on a click elsewhere or on Escape, like any menu.
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
      <summary
        className="flex cursor-pointer list-none items-center gap-2 rounded-md px-2 py-1.5 text-sm hover:bg-zinc-200 dark:hover:bg-zinc-800"
        aria-label={`User menu for ${user.username}`}
      >
        <span
          aria-hidden="true"
          className="flex h-7 w-7 items-center justify-center rounded-full bg-indigo-600 text-xs font-semibold text-white uppercase"
        >
          {user.username.slice(0, 2)}
        </span>
        <span className="hidden sm:inline">{user.username}</span>
      </summary>
      <div className="absolute right-0 z-20 mt-2 w-56 rounded-md border border-zinc-200 bg-white p-2 text-sm shadow-lg dark:border-zinc-800 dark:bg-zinc-900">
        <div className="border-b border-zinc-200 px-2 pb-2 dark:border-zinc-800">
          <p className="font-medium">{user.username}</p>
          <p className="truncate text-zinc-500">{user.email}</p>
          <p className="mt-1 text-xs text-zinc-500">Role: {user.role}</p>
        </div>
        <Link
          href="/settings"
          className="mt-1 block rounded px-2 py-1.5 hover:bg-zinc-100 dark:hover:bg-zinc-800"
        >
          Settings
        </Link>
        <Link
          href="/logout"
          className="mt-1 block rounded px-2 py-1.5 hover:bg-zinc-100 dark:hover:bg-zinc-800"
        >
          Log out
        </Link>
      </div>
    </details>
  );
}
