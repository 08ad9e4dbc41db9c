import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { act, cleanup, render, renderHook, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Toaster } from 'sonner';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BulkBar } from '../src/components/list/bulk-bar';
import { apiQuery, nextSort, useListParams } from '../src/components/list/list-params';
import { runEach, toCsv } from '../src/components/list/run-each';
import type { BulkAction, Column } from '../src/components/list/types';

const replace = vi.fn();
let search = new URLSearchParams();
vi.mock('next/navigation', () => ({
  useRouter: () => ({ replace, push: vi.fn() }),
  usePathname: () => '/vms',
  useSearchParams: () => search,
}));

beforeEach(() => {
  replace.mockReset();
  search = new URLSearchParams();
});
afterEach(cleanup);

describe('list parameters in the URL', () => {
  it('reads search, sort, known filters and repeated tags; ignores unknown parameters', () => {
    search = new URLSearchParams('q=farm&sort=-vmid&status=running&bogus=1&tag=eu&tag=prod');
    const { result } = renderHook(() =>
      useListParams({ filterNames: ['status', 'type'], defaultSort: 'created_at' }),
    );
    expect(result.current.params).toEqual({
      q: 'farm',
      sort: '-vmid',
      sortChosen: true,
      filters: { status: 'running' },
      tags: ['eu', 'prod'],
    });
    expect(apiQuery(result.current.params)).toEqual({
      q: 'farm',
      sort: '-vmid',
      status: 'running',
      tag: ['eu', 'prod'],
    });
  });

  it('leaves the order of a search to the API (best matches first) unless a sort is chosen', () => {
    search = new URLSearchParams('q=farm');
    const { result } = renderHook(() =>
      useListParams({ filterNames: [], defaultSort: 'created_at' }),
    );
    expect(apiQuery(result.current.params)).toEqual({ q: 'farm' });
    search = new URLSearchParams('sort=name');
    const sorted = renderHook(() => useListParams({ filterNames: [], defaultSort: 'created_at' }));
    expect(apiQuery(sorted.result.current.params)).toEqual({ sort: 'name' });
    search = new URLSearchParams('');
    const plain = renderHook(() => useListParams({ filterNames: [], defaultSort: 'created_at' }));
    expect(apiQuery(plain.result.current.params)).toEqual({ sort: 'created_at' });
  });

  it('writes changes with replace, dropping empty values and the default sort', () => {
    search = new URLSearchParams('q=farm&status=running');
    const { result } = renderHook(() =>
      useListParams({ filterNames: ['status', 'type'], defaultSort: 'created_at' }),
    );
    act(() =>
      result.current.update({
        q: ' ',
        sort: 'created_at',
        filters: { status: null, type: 'lxc' },
        tags: ['a b'],
      }),
    );
    expect(replace).toHaveBeenCalledWith('/vms?type=lxc&tag=a+b', { scroll: false });
    act(() => result.current.update({ sort: '-name' }));
    expect(replace).toHaveBeenLastCalledWith('/vms?q=farm&status=running&sort=-name', {
      scroll: false,
    });
  });

  it('cycles a column through ascending, descending and back to the default', () => {
    expect(nextSort('created_at', 'name', 'created_at')).toBe('name');
    expect(nextSort('name', 'name', 'created_at')).toBe('-name');
    expect(nextSort('-name', 'name', 'created_at')).toBe('created_at');
  });
});

describe('runEach', () => {
  it('runs every task with bounded concurrency and reports progress', async () => {
    let running = 0;
    let peak = 0;
    const progress: number[] = [];
    const done = await runEach({
      items: [1, 2, 3, 4, 5, 6, 7],
      concurrency: 3,
      onProgress: (n) => progress.push(n),
      task: async () => {
        running++;
        peak = Math.max(peak, running);
        await new Promise((r) => setTimeout(r, 5));
        running--;
      },
    });
    expect(done).toBe(7);
    expect(peak).toBe(3);
    expect(progress).toEqual([1, 2, 3, 4, 5, 6, 7]);
  });

  it('stops starting new tasks after a failure and throws it', async () => {
    const started: number[] = [];
    await expect(
      runEach({
        items: [1, 2, 3, 4, 5, 6],
        concurrency: 1,
        task: async (n) => {
          started.push(n);
          if (n === 2) throw new Error('row 2 refused');
        },
      }),
    ).rejects.toThrow('row 2 refused');
    expect(started).toEqual([1, 2]);
  });
});

describe('toCsv', () => {
  it('defuses every dangerous first character, in list cells element by element', () => {
    for (const c of ['=', '+', '-', '@', '\t', '\r']) {
      const csv = toCsv(['note', 'tags'], [[`${c}note`, ['ok', `${c}HYPERLINK("http://x")`]]]);
      expect(csv).toBe(`"note","tags"\r\n"'${c}note","ok;'${c}HYPERLINK(""http://x"")"`);
      expect(toCsv(['tags'], [[[`${c}a`, 'b']]])).toBe(`"tags"\r\n"'${c}a;b"`);
    }
    expect(toCsv(['tags'], [[[]]])).toBe('"tags"\r\n""');
  });

  it('quotes every field and defuses formulas', () => {
    expect(toCsv(['a', 'b'], [['=1+1', 'say "hi"']])).toBe('"a","b"\r\n"\'=1+1","say ""hi"""');
  });
});

type Row = { id: string; name: string };
const columns: Column<Row>[] = [
  { id: 'name', header: 'Name', width: '1fr', cell: (r) => r.name, text: (r) => r.name },
];

function renderBar(actions: BulkAction<Row>[], selected: Row[]) {
  const onDone = vi.fn();
  render(
    <QueryClientProvider client={new QueryClient()}>
      <BulkBar
        entity="vms"
        selected={selected}
        actions={actions}
        columns={columns}
        onDone={onDone}
      />
      <Toaster />
    </QueryClientProvider>,
  );
  return { onDone };
}

describe('BulkBar', () => {
  const rows = [
    { id: '1', name: 'farm-1' },
    { id: '2', name: 'farm-2' },
  ];

  it('asks before a destructive action and runs it only when confirmed', async () => {
    const run = vi.fn(async (selected: Row[]) => `Deleted ${selected.length} VMs.`);
    const { onDone } = renderBar(
      [
        {
          id: 'delete',
          label: 'Delete',
          destructive: true,
          confirm: (count) => ({
            title: `Delete ${count} VMs?`,
            message: 'This cannot be undone.',
            confirmLabel: `Delete ${count}`,
          }),
          run,
        },
      ],
      rows,
    );
    const user = userEvent.setup();
    expect(screen.getByTestId('selected-count').textContent).toBe('2 selected');
    await user.click(screen.getByRole('button', { name: 'Delete' }));
    expect(screen.getByText('Delete 2 VMs?')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Cancel' }));
    expect(run).not.toHaveBeenCalled();

    await user.click(screen.getByRole('button', { name: 'Delete' }));
    await user.click(screen.getByRole('button', { name: 'Delete 2' }));
    await waitFor(() => expect(run).toHaveBeenCalledTimes(1));
    expect(run.mock.calls[0]?.[0]).toEqual(rows);
    expect(await screen.findByText('Deleted 2 VMs.')).toBeTruthy();
    expect(onDone).toHaveBeenCalled();
  });

  it('asks for the value of an action that needs one and passes it on', async () => {
    const run = vi.fn(async (_rows: Row[], value: string | undefined) => `Tagged with ${value}.`);
    renderBar([{ id: 'tag', label: 'Add tag', input: { label: 'Tag' }, run }], rows);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Add tag' }));
    const dialog = screen.getByRole('dialog');
    const confirm = [...dialog.querySelectorAll('button')].find((b) => b.textContent === 'Add tag');
    expect(confirm?.disabled).toBe(true);
    await user.type(screen.getByLabelText('Tag'), 'eu{Enter}');
    await waitFor(() => expect(run).toHaveBeenCalledTimes(1));
    expect(run.mock.calls[0]?.[1]).toBe('eu');
    expect(await screen.findByText('Tagged with eu.')).toBeTruthy();
  });

  it('shows the problem of a failed action and keeps the selection', async () => {
    const run = vi.fn(async () => {
      throw new Error('VM farm-2 changed meanwhile.');
    });
    const { onDone } = renderBar([{ id: 'x', label: 'Start', run }], rows);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Start' }));
    expect(await screen.findByText('VM farm-2 changed meanwhile.')).toBeTruthy();
    expect(onDone).not.toHaveBeenCalled();
  });
});
