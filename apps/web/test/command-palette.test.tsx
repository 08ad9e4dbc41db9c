import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, cleanup, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApiClient } from '../src/api/client';
import { SessionStore } from '../src/api/session';
import type { SearchHit } from '../src/features/search/global-search';

const push = vi.fn();
vi.mock('next/navigation', () => ({
  useRouter: () => ({ push, replace: vi.fn() }),
  usePathname: () => '/',
  useSearchParams: () => new URLSearchParams(),
}));

const hits: SearchHit[] = [
  { kind: 'account', id: 'a1', title: 'farmer01', detail: 'steam', href: '/accounts/a1' },
  { kind: 'vm', id: 'v1', title: 'farm-101', detail: 'VMID 101', href: '/vms/v1' },
];
const searched: string[] = [];
vi.mock('../src/features/search/global-search', async (original) => ({
  ...(await original<typeof import('../src/features/search/global-search')>()),
  useGlobalSearch: (term: string) => {
    searched.push(term);
    return { data: term.trim().length >= 2 ? hits : [], isFetching: false };
  },
}));

const { CommandPalette } = await import('../src/features/search/command-palette');
const { searchEverything } = await import('../src/features/search/global-search');

beforeEach(() => {
  push.mockReset();
  searched.length = 0;
});
afterEach(cleanup);

function renderPalette(isAdmin = false) {
  const client = new QueryClient();
  render(
    <QueryClientProvider client={client}>
      <CommandPalette isAdmin={isAdmin} />
    </QueryClientProvider>,
  );
}

describe('CommandPalette', () => {
  it('opens with Ctrl-K, finds records and opens the chosen one with the keyboard', async () => {
    const user = userEvent.setup();
    renderPalette();
    expect(screen.queryByRole('combobox')).toBeNull();
    await user.keyboard('{Control>}k{/Control}');
    const box = await screen.findByRole('combobox', { name: 'Search records, pages and commands' });
    await user.type(box, 'farm');
    await waitFor(() => expect(screen.getByRole('option', { name: /farmer01/ })).toBeTruthy());
    expect(searched.at(-1)).toBe('farm');
    const options = screen.getAllByRole('option');
    expect(options[0]?.getAttribute('aria-selected')).toBe('true');
    await user.keyboard('{ArrowDown}');
    expect(screen.getByRole('option', { name: /farm-101/ }).getAttribute('aria-selected')).toBe(
      'true',
    );
    expect(box.getAttribute('aria-activedescendant')).toBe(
      screen.getByRole('option', { name: /farm-101/ }).id,
    );
    await user.keyboard('{Enter}');
    expect(push).toHaveBeenCalledWith('/vms/v1');
  });

  it('offers pages by name, and the admin pages only to admins', async () => {
    const user = userEvent.setup();
    renderPalette(false);
    await user.keyboard('{Meta>}k{/Meta}');
    await user.type(await screen.findByRole('combobox'), 'us');
    expect(screen.queryByRole('option', { name: 'Users' })).toBeNull();
    cleanup();
    renderPalette(true);
    await user.keyboard('{Control>}k{/Control}');
    await user.type(await screen.findByRole('combobox'), 'us');
    await user.click(await screen.findByRole('option', { name: 'Users' }));
    expect(push).toHaveBeenCalledWith('/admin/users');
  });
});

describe('searchEverything', () => {
  it('asks every kind, finds VMs by VMID and cards by exact code, and skips kinds that fail', async () => {
    const asked: string[] = [];
    const bodies: Record<string, unknown> = {};
    const fetchImpl = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
      const request = new Request(input, init);
      const url = new URL(request.url);
      asked.push(`${request.method} ${url.pathname}?${url.searchParams.toString()}`);
      if (request.method === 'POST') bodies[url.pathname] = await request.json();
      const page = (items: unknown[]) =>
        new Response(JSON.stringify({ items, next_cursor: null, total: items.length }), {
          headers: { 'content-type': 'application/json' },
        });
      if (url.pathname === '/api/v1/hardware') return new Response('{}', { status: 500 });
      if (url.pathname === '/api/v1/vms' && url.searchParams.get('vmid') === '101')
        return page([
          { id: 'v1', vmid: 101, name: 'farm-101', status: 'running', ip_addresses: [] },
        ]);
      if (
        url.pathname === '/api/v1/cards/lookup' &&
        (bodies[url.pathname] as { code?: string }).code === '101'
      )
        return page([
          { id: 'c1', code_hint: '…0101', status: 'available', value: 5, currency: 'EUR' },
        ]);
      return page([]);
    }) as unknown as typeof fetch;
    const session = new SessionStore(fetchImpl, 'http://web.test');
    const api = createApiClient({
      session,
      onSessionEnd: vi.fn(),
      baseUrl: 'http://web.test',
      fetch: fetchImpl,
    });
    let found: SearchHit[] = [];
    await act(async () => {
      found = await searchEverything(api, '101');
    });
    expect(found.map((h) => `${h.kind}:${h.id}`)).toEqual(['vm:v1', 'card:c1']);
    expect(found[0]?.href).toBe('/vms/v1');
    expect(asked).toEqual(
      expect.arrayContaining([
        'GET /api/v1/accounts?q=101&limit=5',
        'GET /api/v1/hardware?q=101&limit=5',
        'GET /api/v1/vms?vmid=101&limit=5',
        'GET /api/v1/proxmox-nodes?q=101&limit=5',
        'POST /api/v1/cards/lookup?',
      ]),
    );
    // The card code travels in the body, never in a URL.
    expect(bodies['/api/v1/cards/lookup']).toEqual({ code: '101', limit: 5 });
    expect(asked.filter((a) => a.includes('code='))).toEqual([]);
    expect(await searchEverything(api, 'x')).toEqual([]);
    // A MAC or a UUID is looked up exactly on the VMs as well.
    await searchEverything(api, 'bc-24-11-5e-0a-01');
    await searchEverything(api, '4c4c4544-0042-3510-8052-b4c04f4e4d32');
    expect(asked).toEqual(
      expect.arrayContaining([
        'GET /api/v1/vms?mac_address=bc-24-11-5e-0a-01&limit=5',
        'GET /api/v1/vms?smbios_uuid=4c4c4544-0042-3510-8052-b4c04f4e4d32&limit=5',
      ]),
    );
  });
});
