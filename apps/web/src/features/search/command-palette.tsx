'use client';

import { useRouter } from 'next/navigation';
import { useTheme } from 'next-themes';
import { type KeyboardEvent, useEffect, useId, useMemo, useRef, useState } from 'react';
import { cx } from '../../components/ui';
import { useAdminScope } from '../scope/admin-scope';
import { type SearchHit, useGlobalSearch } from './global-search';

interface Command {
  id: string;
  group: string;
  title: string;
  detail?: string;
  run: () => void;
}

const KIND_LABEL: Record<SearchHit['kind'], string> = {
  account: 'Accounts',
  hardware: 'Hardware',
  vm: 'VMs',
  node: 'Nodes',
  card: 'Cards',
};

const PAGES: ReadonlyArray<{ title: string; href: string; admin?: boolean }> = [
  { title: 'Dashboard', href: '/' },
  { title: 'Accounts', href: '/accounts' },
  { title: 'New account', href: '/accounts/new' },
  { title: 'Import accounts', href: '/accounts/import' },
  { title: 'Hardware', href: '/hardware' },
  { title: 'New hardware', href: '/hardware/new' },
  { title: 'Import hardware', href: '/hardware/import' },
  { title: 'Cards', href: '/cards' },
  { title: 'Import cards', href: '/cards/import' },
  { title: 'VMs', href: '/vms' },
  { title: 'Nodes', href: '/nodes' },
  { title: 'Register node', href: '/nodes/new' },
  { title: 'Audit log', href: '/audit' },
  { title: 'Settings', href: '/settings' },
  { title: 'Users', href: '/admin/users', admin: true },
];

/**
 * Ctrl/Cmd-K: one box that finds any record (username, e-mail, external id, MAC, SMBIOS
 * UUID, VMID, node, card code) and any page or command. Arrow keys move, Enter opens,
 * Escape closes. A combobox with a listbox, so screen readers follow the active option.
 */
export function CommandPalette({ isAdmin }: { isAdmin: boolean }) {
  const [open, setOpen] = useState(false);
  const [term, setTerm] = useState('');
  const [debounced, setDebounced] = useState('');
  const [active, setActive] = useState(0);
  const router = useRouter();
  const { resolvedTheme, setTheme } = useTheme();
  const dialog = useRef<HTMLDialogElement>(null);
  const listId = useId();

  useEffect(() => {
    const onKey = (event: globalThis.KeyboardEvent) => {
      if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === 'k') {
        event.preventDefault();
        setOpen((was) => !was);
      }
    };
    const onOpen = () => setOpen(true);
    document.addEventListener('keydown', onKey);
    window.addEventListener('accountdb:command-palette', onOpen);
    return () => {
      document.removeEventListener('keydown', onKey);
      window.removeEventListener('accountdb:command-palette', onOpen);
    };
  }, []);
  useEffect(() => {
    const el = dialog.current;
    if (!el) return;
    if (open && !el.open) el.showModal?.();
    if (!open && el.open) el.close?.();
    if (!open) {
      setTerm('');
      setDebounced('');
    }
  }, [open]);
  useEffect(() => {
    const timer = setTimeout(() => setDebounced(term), 200);
    return () => clearTimeout(timer);
  }, [term]);

  const search = useGlobalSearch(debounced, useAdminScope().all);
  const commands: Command[] = useMemo(() => {
    const go = (href: string) => () => {
      setOpen(false);
      router.push(href);
    };
    const needle = term.trim().toLowerCase();
    const pages: Command[] = PAGES.filter((p) => !p.admin || isAdmin)
      .filter((p) => !needle || p.title.toLowerCase().includes(needle))
      .map((p) => ({ id: `page:${p.href}`, group: 'Go to', title: p.title, run: go(p.href) }));
    const actions: Command[] = [
      {
        id: 'theme',
        group: 'Commands',
        title: resolvedTheme === 'dark' ? 'Switch to light theme' : 'Switch to dark theme',
        run: () => {
          setTheme(resolvedTheme === 'dark' ? 'light' : 'dark');
          setOpen(false);
        },
      },
      { id: 'logout', group: 'Commands', title: 'Log out', run: go('/logout') },
    ].filter((c) => !needle || c.title.toLowerCase().includes(needle));
    const hits: Command[] =
      debounced.trim().length >= 2
        ? (search.data ?? []).map((hit) => ({
            id: `${hit.kind}:${hit.id}`,
            group: KIND_LABEL[hit.kind],
            title: hit.title,
            detail: hit.detail,
            run: go(hit.href),
          }))
        : [];
    return [...hits, ...pages, ...actions];
  }, [term, debounced, search.data, isAdmin, router, resolvedTheme, setTheme]);

  const selected = Math.min(active, Math.max(0, commands.length - 1));

  const onKeyDown = (event: KeyboardEvent<HTMLInputElement>) => {
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      event.preventDefault();
      const step = event.key === 'ArrowDown' ? 1 : -1;
      setActive(commands.length ? (selected + step + commands.length) % commands.length : 0);
    } else if (event.key === 'Enter') {
      event.preventDefault();
      commands[selected]?.run();
    }
  };
  useEffect(() => {
    document.getElementById(`${listId}-${selected}`)?.scrollIntoView?.({ block: 'nearest' });
  }, [selected, listId]);

  let lastGroup = '';
  return (
    // biome-ignore lint/a11y/useKeyWithClickEvents: a click on the backdrop closes; Escape does the same from the keyboard
    <dialog
      ref={dialog}
      aria-label="Command palette"
      onClose={() => setOpen(false)}
      onCancel={(event) => {
        event.preventDefault();
        setOpen(false);
      }}
      onClick={(event) => {
        if (event.target === dialog.current) setOpen(false);
      }}
      className="mx-auto mt-[12vh] w-[calc(100%-2rem)] max-w-xl rounded-lg border border-zinc-200 bg-white p-0 text-zinc-900 shadow-2xl backdrop:bg-black/40 dark:border-zinc-800 dark:bg-zinc-900 dark:text-zinc-100"
    >
      {open ? (
        <div>
          <input
            role="combobox"
            aria-expanded="true"
            aria-controls={listId}
            aria-activedescendant={commands[selected] ? `${listId}-${selected}` : undefined}
            aria-label="Search records, pages and commands"
            placeholder="Find an account, MAC, VMID, node, card code… or a page"
            value={term}
            onChange={(event) => {
              setTerm(event.target.value);
              setActive(0);
            }}
            onKeyDown={onKeyDown}
            autoFocus
            className="w-full border-b border-zinc-200 bg-transparent px-4 py-3 text-base outline-none dark:border-zinc-800"
          />
          <div
            id={listId}
            role="listbox"
            aria-label="Results"
            className="max-h-[50vh] overflow-auto p-2"
          >
            {commands.length === 0 ? (
              <p className="px-3 py-6 text-center text-sm text-zinc-500">
                {search.isFetching ? 'Searching…' : 'Nothing found.'}
              </p>
            ) : (
              commands.map((command, index) => {
                const heading = command.group !== lastGroup ? command.group : null;
                lastGroup = command.group;
                return (
                  <div key={command.id}>
                    {heading ? (
                      <p
                        aria-hidden="true"
                        className="px-3 pt-2 pb-1 text-xs font-semibold text-zinc-500 uppercase"
                      >
                        {heading}
                      </p>
                    ) : null}
                    {/* biome-ignore lint/a11y/useKeyWithClickEvents: options are chosen from the keyboard in the combobox (arrows, Enter) */}
                    <div
                      id={`${listId}-${index}`}
                      role="option"
                      tabIndex={-1}
                      aria-selected={index === selected}
                      onMouseMove={() => setActive(index)}
                      onClick={command.run}
                      className={cx(
                        'flex cursor-pointer items-baseline justify-between gap-3 rounded-md px-3 py-2 text-sm',
                        index === selected && 'bg-indigo-600 text-white',
                      )}
                    >
                      <span className="truncate font-medium">{command.title}</span>
                      {command.detail ? (
                        <span
                          className={cx(
                            'truncate text-xs',
                            index === selected ? 'text-indigo-100' : 'text-zinc-500',
                          )}
                        >
                          {command.detail}
                        </span>
                      ) : null}
                    </div>
                  </div>
                );
              })
            )}
            {search.isFetching && commands.length > 0 ? (
              <p className="px-3 py-1 text-xs text-zinc-500" aria-live="polite">
                Searching…
              </p>
            ) : null}
          </div>
        </div>
      ) : null}
    </dialog>
  );
}

/** The header button that opens the palette, showing its shortcut. */
export function CommandPaletteButton() {
  return (
    <button
      type="button"
      onClick={() => window.dispatchEvent(new Event('accountdb:command-palette'))}
      className="hidden items-center gap-2 rounded-md border border-zinc-300 px-2.5 py-1.5 text-sm text-zinc-500 hover:bg-zinc-100 sm:inline-flex dark:border-zinc-700 dark:hover:bg-zinc-800"
      aria-keyshortcuts="Control+K Meta+K"
    >
      Search…
      <kbd className="rounded border border-zinc-300 px-1 text-xs dark:border-zinc-700">Ctrl K</kbd>
    </button>
  );
}
