import { readFileSync } from 'node:fs';
import path from 'node:path';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';

/**
 * The account import wizard with the earlier AccountDB's formats. The files are the API's
 * fixtures (apps/api/test/fixtures/legacy-accounts, built from the facts of Xenogy/SLLAB
 * listed in apps/api/test/legacy-accounts.test.ts).
 */

const post = vi.fn();
vi.mock('../src/lib/api', async (original) => ({
  ...(await original<typeof import('../src/lib/api')>()),
  api: { POST: (...args: unknown[]) => post(...args) },
}));
vi.mock('next/link', () => ({ default: (props: { children: unknown }) => props.children }));
vi.mock('next/navigation', () => ({
  useRouter: () => ({ replace: vi.fn(), push: vi.fn() }),
  usePathname: () => '/accounts',
  useSearchParams: () => new URLSearchParams(),
}));

const { AccountImport } = await import('../src/features/accounts/account-import');
const { ResourceList } = await import('../src/components/list/resource-list');
const { detectAccountFormat, LEGACY_TEMPLATE_CSV } = await import(
  '../src/features/accounts/legacy-formats'
);

const FIXTURES = path.join(import.meta.dirname, '../../api/test/fixtures/legacy-accounts');
const fixture = (name: string) => readFileSync(path.join(FIXTURES, name), 'utf8');

afterEach(() => {
  cleanup();
  post.mockReset();
});

describe('detectAccountFormat', () => {
  it('tells the earlier formats from AccountDB’s own', () => {
    expect(detectAccountFormat(fixture('upload.json'))).toBe('legacy-json');
    expect(detectAccountFormat(fixture('upload.csv'))).toBe('legacy-csv');
    expect(detectAccountFormat(fixture('template.csv'))).toBe('legacy-csv');
    expect(detectAccountFormat(fixture('accounts-table.csv'))).toBe('legacy-table-csv');
    expect(detectAccountFormat(fixture('accounts-table.json'))).toBe('legacy-table-json');
    expect(detectAccountFormat('username,password\r\na,b\r\n')).toBe('csv');
    expect(detectAccountFormat('[{"username":"a"}]')).toBe('json');
    expect(detectAccountFormat('{"username":"a"}\n{"username":"b"}\n')).toBe('jsonl');
    expect(detectAccountFormat('  \n')).toBeNull();
  });

  it("offers the earlier web UI's template: its ten columns", () => {
    // frontend/nextjs/public/sample_accounts_template.csv of Xenogy/SLLAB has these columns.
    expect(LEGACY_TEMPLATE_CSV.split('\r\n')[0]).toBe(
      'id,user.username,user.password,email.address,email.password,vault.address,vault.password,metadata.createdAt,metadata.sessionStart,metadata.guard',
    );
    expect(detectAccountFormat(LEGACY_TEMPLATE_CSV)).toBe('legacy-csv');
  });
});

function renderImport() {
  render(
    <QueryClientProvider client={new QueryClient()}>
      <AccountImport />
    </QueryClientProvider>,
  );
}

describe('AccountImport', () => {
  it('says which format it detected, checks with the server and names the format read', async () => {
    post.mockResolvedValue({
      data: {
        dry_run: true,
        format: 'legacy-table-csv',
        total: 3,
        created: 2,
        updated: 0,
        failed: 1,
        errors: [{ row: 3, message: 'acc_server_time must be a whole number' }],
        errors_total: 1,
        errors_truncated: false,
      },
      response: new Response(null, { status: 200 }),
    });
    renderImport();
    const text = fixture('accounts-table.csv');
    fireEvent.change(screen.getByLabelText('Paste accounts'), { target: { value: text } });
    expect(screen.getByTestId('import-detected').textContent).toBe(
      'Detected: earlier AccountDB accounts table dump (CSV)',
    );
    await userEvent.setup().click(screen.getByRole('button', { name: 'Check' }));
    expect((await screen.findByTestId('import-summary')).textContent).toBe(
      'Would create 2, update 0; 1 failed (read as earlier AccountDB accounts table dump (CSV)).',
    );
    expect(screen.getByText('acc_server_time must be a whole number')).toBeTruthy();
    const [url, options] = post.mock.calls[0] as [string, { body: string; params: unknown }];
    expect(url).toBe('/api/v1/accounts/import');
    expect(options.body).toBe(text);
    expect(options.params).toEqual({ query: { dry_run: true } });
  });

  it('sends a chosen earlier format and hides the guess', async () => {
    post.mockResolvedValue({
      data: {
        dry_run: true,
        format: 'legacy-csv',
        total: 2,
        created: 2,
        updated: 0,
        failed: 0,
        errors: [],
        errors_total: 0,
        errors_truncated: false,
      },
      response: new Response(null, { status: 200 }),
    });
    renderImport();
    fireEvent.change(screen.getByLabelText('Paste accounts'), {
      target: { value: fixture('template.csv') },
    });
    fireEvent.change(screen.getByLabelText('Format'), { target: { value: 'legacy-csv' } });
    expect(screen.queryByTestId('import-detected')).toBeNull();
    await userEvent.setup().click(screen.getByRole('button', { name: 'Check' }));
    await screen.findByTestId('import-summary');
    expect((post.mock.calls[0] as [string, { params: unknown }])[1].params).toEqual({
      query: { dry_run: true, format: 'legacy-csv' },
    });
  });

  it('downloads the template', async () => {
    const blobs: Blob[] = [];
    URL.createObjectURL = vi.fn((blob: Blob) => {
      blobs.push(blob);
      return 'blob:template';
    });
    URL.revokeObjectURL = vi.fn();
    const click = vi.spyOn(HTMLAnchorElement.prototype, 'click').mockImplementation(() => {});
    renderImport();
    await userEvent
      .setup()
      .click(screen.getByRole('button', { name: 'Download the earlier CSV template' }));
    expect(click).toHaveBeenCalledTimes(1);
    expect(await blobs[0]?.text()).toBe(LEGACY_TEMPLATE_CSV);
    click.mockRestore();
  });
});

describe('export menu', () => {
  it('offers the earlier format beside CSV and JSON and exports in it', async () => {
    const exportAll = vi.fn(async () => undefined);
    render(
      <QueryClientProvider client={new QueryClient()}>
        <ResourceList<{ id: string }, 'legacy-csv'>
          entity="accounts"
          queryKey={['accounts-export-test']}
          fetchPage={async () => ({ items: [], next_cursor: null, total: 0 })}
          columns={[{ id: 'id', header: 'Id', width: '1fr', cell: (r) => r.id }]}
          exportAll={exportAll}
          exportFormats={[{ format: 'legacy-csv', label: 'Earlier CSV', title: 'earlier' }]}
          defaultSort="id"
          rowHref={(r) => `/accounts/${r.id}`}
          empty={<p>none</p>}
        />
      </QueryClientProvider>,
    );
    await userEvent.setup().click(screen.getByRole('button', { name: 'Earlier CSV' }));
    expect(exportAll).toHaveBeenCalledWith(expect.anything(), 'legacy-csv');
    expect(screen.getByRole('button', { name: 'Export CSV' })).toBeTruthy();
  });
});
