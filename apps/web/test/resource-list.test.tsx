import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, render, screen, waitFor, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResourceList } from '../src/components/list/resource-list';
import type { ApiListQuery, Column } from '../src/components/list/types';

const push = vi.fn();
const replace = vi.fn();
let search = new URLSearchParams();
vi.mock('next/navigation', () => ({
  useRouter: () => ({ replace, push }),
  usePathname: () => '/vms',
  useSearchParams: () => search,
}));

type Vm = { id: string; name: string; vmid: number };
const ALL: Vm[] = Array.from({ length: 450 }, (_, i) => ({
  id: `vm-${i}`,
  name: `farm-${i}`,
  vmid: 100 + i,
}));
const columns: Column<Vm>[] = [
  { id: 'name', header: 'Name', width: '1fr', sortable: true, cell: (r) => r.name },
  { id: 'vmid', header: 'VMID', width: '6rem', sortable: true, cell: (r) => r.vmid },
  { id: 'notes', header: 'Notes', width: '6rem', defaultHidden: true, cell: () => 'n' },
];

beforeEach(() => {
  push.mockReset();
  replace.mockReset();
  search = new URLSearchParams();
  localStorage.clear();
  // happy-dom has no layout: give the scrolling grid a height so rows are rendered.
  vi.spyOn(HTMLElement.prototype, 'offsetHeight', 'get').mockReturnValue(600);
  vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(600);
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

function renderList() {
  const calls: Array<{ query: ApiListQuery; cursor?: string; limit: number }> = [];
  const fetchPage = vi.fn(
    async (options: { query: ApiListQuery; cursor?: string; limit: number }) => {
      calls.push(options);
      const start = options.cursor ? Number(options.cursor) : 0;
      const items = ALL.slice(start, start + options.limit);
      const end = start + items.length;
      return { items, next_cursor: end < ALL.length ? String(end) : null, total: ALL.length };
    },
  );
  render(
    <QueryClientProvider client={new QueryClient()}>
      <ResourceList<Vm>
        entity="vms"
        queryKey={['vms']}
        fetchPage={fetchPage}
        columns={columns}
        filters={[
          { name: 'status', label: 'Status', options: [{ value: 'running', label: 'running' }] },
        ]}
        defaultSort="created_at"
        rowHref={(row) => `/vms/${row.id}`}
        empty={<p>No VMs yet.</p>}
      />
    </QueryClientProvider>,
  );
  return { calls };
}

describe('ResourceList', () => {
  it('loads the first page with the URL query and shows the count of all matches', async () => {
    search = new URLSearchParams('status=running&sort=-vmid');
    const { calls } = renderList();
    await waitFor(() =>
      expect(screen.getByTestId('vms-count').textContent).toBe('200 of 450 vms matching'),
    );
    expect(calls[0]).toEqual({ query: { status: 'running', sort: '-vmid' }, limit: 200 });
    const grid = screen.getByRole('grid', { name: 'vms' });
    expect(grid.getAttribute('aria-rowcount')).toBe('451');
    expect(within(grid).getByRole('columnheader', { name: /VMID/ }).getAttribute('aria-sort')).toBe(
      'descending',
    );
    // Only the rows in view (plus a margin) are in the document, not all 200.
    const rendered = within(grid).getAllByRole('row').length - 1;
    expect(rendered).toBeGreaterThan(5);
    expect(rendered).toBeLessThan(60);
  });

  it('moves, selects and opens rows from the keyboard', async () => {
    renderList();
    const user = userEvent.setup();
    const grid = await screen.findByRole('grid', { name: 'vms' });
    await screen.findByText('farm-0');
    grid.focus();
    await user.keyboard('{ArrowDown}{ArrowDown}');
    const active = () => document.getElementById(grid.getAttribute('aria-activedescendant') ?? '');
    expect(active()?.textContent).toContain('farm-2');
    await user.keyboard(' ');
    expect(active()?.getAttribute('aria-selected')).toBe('true');
    expect(screen.getByTestId('selected-count').textContent).toBe('1 selected');
    await user.keyboard('{ArrowUp}{Shift>} {/Shift}');
    expect(screen.getByTestId('selected-count').textContent).toBe('2 selected');
    await user.keyboard('{Enter}');
    expect(push).toHaveBeenCalledWith('/vms/vm-1');
    // End goes to the last loaded row (scrolled into view by the virtualiser in a browser).
    await user.keyboard('{End}{Enter}');
    expect(grid.getAttribute('aria-activedescendant')).toMatch(/-row-199$/);
    expect(push).toHaveBeenLastCalledWith('/vms/vm-199');
  });

  it('sorts by a header click through the URL and remembers hidden columns', async () => {
    renderList();
    const user = userEvent.setup();
    await screen.findByText('farm-0');
    await user.click(screen.getByRole('button', { name: /^Name/ }));
    expect(replace).toHaveBeenCalledWith('/vms?sort=name', { scroll: false });
    expect(screen.queryByRole('columnheader', { name: 'Notes' })).toBeNull();
    await user.click(screen.getByText('Columns'));
    await user.click(screen.getByRole('checkbox', { name: 'Notes' }));
    expect(screen.getByRole('columnheader', { name: 'Notes' })).toBeTruthy();
    expect(JSON.parse(localStorage.getItem('accountdb.columns.vms') ?? '[]')).toEqual([
      'name',
      'vmid',
      'notes',
    ]);
  });
});
