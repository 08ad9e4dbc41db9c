'use client';

import Link from 'next/link';
import { usePathname, useRouter } from 'next/navigation';
import { type ReactNode, useEffect, useState } from 'react';
import { scopedHref, useAdminScope } from '../features/scope/admin-scope';
import { ScopeSwitch } from '../features/scope/scope-switch';
import { CommandPalette, CommandPaletteButton } from '../features/search/command-palette';
import { api, loginUrl, session, unwrap, useSession } from '../lib/api';
import { useLiveUpdates } from '../lib/live-updates';
import { LiveIndicator } from './live-indicator';
import { ThemeToggle } from './theme-toggle';
import { cx } from './ui';
import { UserMenu } from './user-menu';

const NAV: ReadonlyArray<{ href: string; label: string; admin?: boolean }> = [
  { href: '/', label: 'Dashboard' },
  { href: '/accounts', label: 'Accounts' },
  { href: '/hardware', label: 'Hardware' },
  { href: '/cards', label: 'Cards' },
  { href: '/vms', label: 'VMs' },
  { href: '/nodes', label: 'Nodes' },
  { href: '/shared', label: 'Shared with me' },
  { href: '/audit', label: 'Audit' },
  { href: '/admin/users', label: 'Users', admin: true },
];

/** The nav item of a path: the dashboard only at "/", the others for their whole subtree. */
function isCurrent(pathname: string, href: string): boolean {
  return href === '/' ? pathname === '/' : pathname === href || pathname.startsWith(`${href}/`);
}

/**
 * The frame of every page behind login. Without an access token in memory (a reload, a new
 * tab) it asks for one with the refresh cookie; without a session it sends the person to
 * first-run setup when no user exists yet, else to the login page with the way back.
 */
export function AppShell({ children }: { children: ReactNode }) {
  const current = useSession();
  const router = useRouter();
  const pathname = usePathname();
  const [menuOpen, setMenuOpen] = useState(false);
  const scope = useAdminScope();
  useLiveUpdates(current !== null, scope.all);

  useEffect(() => {
    if (session.current) return;
    let cancelled = false;
    (async () => {
      const renewed = await session.refresh();
      if (cancelled || renewed) return;
      const setup = await api.GET('/api/v1/auth/setup').then(unwrap, () => null);
      if (cancelled) return;
      router.replace(setup?.needed ? '/setup' : loginUrl());
    })();
    return () => {
      cancelled = true;
    };
  }, [router]);

  if (!current) {
    return (
      <main className="flex min-h-screen items-center justify-center" aria-busy="true">
        <p className="text-sm text-zinc-500">Loading…</p>
      </main>
    );
  }

  const items = NAV.filter((item) => !item.admin || current.user.role === 'admin');
  return (
    <div className="min-h-screen">
      <header className="sticky top-0 z-10 border-b border-zinc-200 bg-white/90 backdrop-blur dark:border-zinc-800 dark:bg-zinc-900/90">
        <div className="relative mx-auto flex h-14 max-w-7xl items-center gap-3 px-4">
          <Link href="/" className="font-bold text-indigo-600 dark:text-indigo-400">
            AccountDB
          </Link>
          <nav
            aria-label="Main"
            className={cx(
              'flex-1 items-center gap-1',
              menuOpen
                ? 'absolute top-14 right-0 left-0 flex flex-col items-stretch border-b border-zinc-200 bg-white p-2 dark:border-zinc-800 dark:bg-zinc-900'
                : 'hidden md:flex',
            )}
          >
            {items.map((item) => (
              <Link
                key={item.href}
                href={item.admin ? item.href : scopedHref(item.href, scope.all)}
                onClick={() => setMenuOpen(false)}
                aria-current={isCurrent(pathname, item.href) ? 'page' : undefined}
                className={cx(
                  'rounded-md px-3 py-1.5 text-sm font-medium',
                  isCurrent(pathname, item.href)
                    ? 'bg-zinc-100 text-zinc-900 dark:bg-zinc-800 dark:text-white'
                    : 'text-zinc-600 hover:bg-zinc-100 dark:text-zinc-300 dark:hover:bg-zinc-800',
                )}
              >
                {item.label}
              </Link>
            ))}
          </nav>
          <div className="flex-1 md:hidden" />
          <button
            type="button"
            className="rounded-md px-2 py-1.5 text-sm md:hidden hover:bg-zinc-200 dark:hover:bg-zinc-800"
            aria-expanded={menuOpen}
            aria-label="Menu"
            onClick={() => setMenuOpen((open) => !open)}
          >
            ☰
          </button>
          {scope.isAdmin ? <ScopeSwitch all={scope.all} onChange={scope.setAll} /> : null}
          <LiveIndicator />
          <CommandPaletteButton />
          <ThemeToggle />
          <UserMenu user={current.user} />
        </div>
      </header>
      <main className="mx-auto max-w-7xl px-4 py-6">{children}</main>
      <CommandPalette isAdmin={current.user.role === 'admin'} />
    </div>
  );
}
