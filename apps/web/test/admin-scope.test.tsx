import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ResourceList } from '../src/components/list/resource-list';
import type { ApiListQuery, Column } from '../src/components/list/types';
import { scopedHref } from '../src/features/scope/admin-scope';
import { OwnerBanner } from '../src/features/scope/owner-banner';
import { ReasonDialog, reasonError } from '../src/features/scope/reason-dialog';
import { ScopeSwitch } from '../src/features/scope/scope-switch';

const replace = vi.fn();
let search = new URLSearchParams();
vi.mock('next/navigation', () => ({
  useRouter: () => ({ replace, push: vi.fn() }),
  usePathname: () => '/vms',
  useSearchParams: () => search,
}));

let role: 'admin' | 'user' = 'admin';
vi.mock('../src/lib/api', async (original) => ({
  ...(await original<typeof import('../src/lib/api')>()),
  useSession: () => ({ user: { id: 'me', username: 'root', role } }),
}));
vi.mock('../src/features/users/queries', () => ({
  fetchUsersPage: async () => ({
    items: [
      { id: 'u-alice', username: 'alice' },
      { id: 'u-bob', username: 'bob' },
    ],
    next_cursor: null,
    total: 2,
  }),
}));

type Vm = { id: string; name: string; owner_id: string; owner?: { id: string; username: string } };
const columns: Column<Vm>[] = [
  { id: 'name', header: 'Name', width: '1fr', cell: (r) => r.name, text: (r) => r.name },
];

beforeEach(() => {
  replace.mockReset();
  search = new URLSearchParams();
  role = 'admin';
  localStorage.clear();
  vi.spyOn(HTMLElement.prototype, 'offsetHeight', 'get').mockReturnValue(600);
  vi.spyOn(HTMLElement.prototype, 'clientHeight', 'get').mockReturnValue(600);
});
afterEach(() => {
  cleanup();
  vi.restoreAllMocks();
});

/** bare: rows carry only owner_id (as audit entries do), never an owner object. */
function renderList(options: { bare?: boolean } = {}) {
  const calls: ApiListQuery[] = [];
  render(
    <QueryClientProvider client={new QueryClient()}>
      <ResourceList<Vm>
        entity="vms"
        queryKey={['vms']}
        fetchPage={async ({ query }) => {
          calls.push(query);
          const all = query.scope === 'all';
          return {
            items: [
              {
                id: 'v1',
                name: 'farm-1',
                owner_id: 'u-alice',
                ...(all && !options.bare ? { owner: { id: 'u-alice', username: 'alice' } } : {}),
              },
            ],
            next_cursor: null,
            total: 1,
          };
        }}
        columns={columns}
        defaultSort="name"
        rowHref={(row) => `/vms/${row.id}`}
        empty={<p>No VMs yet.</p>}
      />
    </QueryClientProvider>,
  );
  return calls;
}

describe('the admin scope switch', () => {
  it('marks the chosen scope and reports a change', async () => {
    const onChange = vi.fn();
    render(<ScopeSwitch all={false} onChange={onChange} />);
    const mine = screen.getByRole('button', { name: 'My inventory' });
    const all = screen.getByRole('button', { name: 'All users' });
    expect(mine.getAttribute('aria-pressed')).toBe('true');
    expect(all.getAttribute('aria-pressed')).toBe('false');
    await userEvent.click(all);
    expect(onChange).toHaveBeenCalledWith(true);
  });

  it('keeps scope=all in links while all users are shown', () => {
    expect(scopedHref('/accounts', true)).toBe('/accounts?scope=all');
    expect(scopedHref('/audit?action=card.', true)).toBe('/audit?action=card.&scope=all');
    expect(scopedHref('/accounts', false)).toBe('/accounts');
  });

  it("lists an admin's own objects by default: no scope asked, no owner column", async () => {
    const calls = renderList();
    await waitFor(() => expect(screen.queryByText('farm-1')).not.toBeNull());
    expect(calls[0]?.scope).toBeUndefined();
    // One row: the count's noun is singular; its checkbox is named after the row.
    expect(screen.getByTestId('vms-count').textContent).toBe('1 vm');
    expect(screen.getAllByRole('checkbox').map((c) => c.getAttribute('aria-label'))).toContain(
      'Select farm-1',
    );
    expect(screen.queryByText('Owner')).toBeNull();
    expect(screen.queryByLabelText('Owner')).toBeNull();
  });

  it('with scope=all in the URL asks the API for everyone, shows an owner column and an owner filter', async () => {
    search = new URLSearchParams('scope=all');
    const calls = renderList();
    await waitFor(() => expect(screen.getByTestId('owner-cell').textContent).toBe('alice'));
    expect(calls[0]?.scope).toBe('all');
    const filter = (await screen.findByLabelText('Owner')) as HTMLSelectElement;
    await waitFor(() =>
      expect([...filter.options].map((o) => o.textContent)).toEqual(
        expect.arrayContaining(['Owner: alice', 'Owner: bob']),
      ),
    );
    await userEvent.selectOptions(filter, 'u-bob');
    expect(replace).toHaveBeenLastCalledWith('/vms?scope=all&owner_id=u-bob', { scroll: false });
  });

  it('names the owner of rows that carry only an owner_id (audit entries) from the user list', async () => {
    search = new URLSearchParams('scope=all');
    renderList({ bare: true });
    await waitFor(() => expect(screen.getByTestId('owner-cell').textContent).toBe('alice'));
  });

  it('ignores scope=all in the URL of a user who is not an admin', async () => {
    role = 'user';
    search = new URLSearchParams('scope=all');
    const calls = renderList();
    await waitFor(() => expect(screen.queryByText('farm-1')).not.toBeNull());
    expect(calls[0]?.scope).toBeUndefined();
    expect(screen.queryByTestId('owner-cell')).toBeNull();
  });

  it("marks another user's object with its owner", () => {
    render(<OwnerBanner owner={{ id: 'u-alice', username: 'alice' }} />);
    expect(screen.getByTestId('owner-banner').textContent).toContain('This belongs to alice');
    cleanup();
    render(<OwnerBanner />);
    expect(screen.queryByTestId('owner-banner')).toBeNull();
  });
});

describe('the reason dialog', () => {
  it('refuses a blank, too long or control-character reason', () => {
    expect(reasonError('   ')).toMatch(/why/);
    expect(reasonError('x'.repeat(501))).toMatch(/500/);
    expect(reasonError('a\u0007b')).toMatch(/printable/);
    expect(reasonError('ticket 42')).toBeNull();
  });

  it('sends the trimmed reason, and nothing until one is given', async () => {
    const onSubmit = vi.fn();
    render(
      <ReasonDialog
        open
        owner="alice"
        what="the secrets of this account"
        onSubmit={onSubmit}
        onCancel={() => {}}
      />,
    );
    expect(screen.queryByText(/alice sees it/)).not.toBeNull();
    await userEvent.click(screen.getByRole('button', { name: 'Reveal' }));
    expect(onSubmit).not.toHaveBeenCalled();
    expect(screen.getByRole('alert').textContent).toMatch(/why/);
    await userEvent.type(screen.getByLabelText('Reason'), '  ticket 42  ');
    await userEvent.click(screen.getByRole('button', { name: 'Reveal' }));
    expect(onSubmit).toHaveBeenCalledWith('ticket 42');
  });
});
