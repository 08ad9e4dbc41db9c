import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, fireEvent, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';

/**
 * The card and hardware import pages with the earlier AccountDB's files: what they send (path,
 * query, content type, the text untouched) and what they show of the answer. The API is
 * replaced by a recorder; the answers are shaped as the API's schemas say.
 */

const calls: Array<{ path: string; options: Record<string, unknown> }> = [];
let answer: unknown;

vi.mock('next/link', () => ({ default: (props: { children: unknown }) => props.children }));
vi.mock('../src/lib/api', () => ({
  api: {
    POST: async (path: string, options: Record<string, unknown>) => {
      calls.push({ path, options });
      return { data: answer, response: { ok: true, status: 200 } };
    },
  },
  unwrap: (r: { data: unknown }) => r.data,
}));

const { CardImport, cardUploadType } = await import('../src/features/cards/card-import');
const { HardwareImport } = await import('../src/features/hardware/hardware-import');

afterEach(() => {
  cleanup();
  calls.length = 0;
});

function renderPage(page: React.ReactNode) {
  render(<QueryClientProvider client={new QueryClient()}>{page}</QueryClientProvider>);
}

const paste = (label: string, text: string) =>
  fireEvent.change(screen.getByLabelText(label), { target: { value: text } });

describe('card import with the earlier formats', () => {
  it('sends a list of lists as JSON and a table dump as text, untouched', async () => {
    expect(cardUploadType('  [["A","B"],["C"]]')).toBe('application/json');
    expect(cardUploadType('id,code1,code2,redeemed,failed,lock,perm_lock,owner_id\n')).toBe(
      'text/plain',
    );
    answer = {
      dry_run: true,
      format: 'codes-json',
      total: 3,
      created: 1,
      updated: 0,
      duplicates: 1,
      failed: 1,
      errors: [{ row: 3, message: 'has 3 codes; expected 1 or 2 (["CODE1","CODE2"])' }],
      errors_total: 1,
      errors_truncated: false,
    };
    renderPage(<CardImport />);
    const body = '[["AAAA-1","PIN"],["AAAA-1"],["A","B","C"]]';
    paste('Paste cards', body);
    await userEvent.setup().click(screen.getByRole('button', { name: 'Check' }));
    expect((await screen.findByTestId('import-summary')).textContent).toContain(
      'Would add 1, update 0; 1 duplicate skipped; 1 failed (format codes-json).',
    );
    expect(screen.getByText('has 3 codes; expected 1 or 2 (["CODE1","CODE2"])')).toBeTruthy();
    expect(calls).toHaveLength(1);
    const sent = calls[0] as { path: string; options: Record<string, unknown> };
    expect(sent.path).toBe('/api/v1/cards/import');
    expect(sent.options.headers).toEqual({ 'content-type': 'application/json' });
    expect(sent.options.body).toBe(body);
    expect(sent.options.params).toEqual({ query: { dry_run: true } });
  });
});

describe('hardware import', () => {
  it('checks first, then imports, naming the rows whose link matched nothing', async () => {
    answer = {
      dry_run: true,
      format: 'csv',
      total: 3,
      created: 1,
      updated: 1,
      unchanged: 0,
      failed: 1,
      errors: [{ row: 4, message: 'vmid 105: none of your VMs has this VMID' }],
      errors_total: 1,
      errors_truncated: false,
    };
    renderPage(<HardwareImport />);
    const dump =
      'id,acc_id,pcname,vmid\n1,76561198000000001,PC-1,\n2,76561198000000001,PC-2,\n3,76561198000000001,PC-3,105\n';
    paste('Paste hardware', dump);
    fireEvent.change(screen.getByLabelText(/format/i), { target: { value: 'csv' } });
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Check' }));
    expect((await screen.findByTestId('import-summary')).textContent).toContain(
      'Would create 1, update 1, 0 unchanged; 1 failed (format csv).',
    );
    expect(screen.getByText('vmid 105: none of your VMs has this VMID')).toBeTruthy();
    expect(calls[0]?.path).toBe('/api/v1/hardware/import');
    expect(calls[0]?.options.params).toEqual({ query: { dry_run: true, format: 'csv' } });
    expect(calls[0]?.options.body).toBe(dump);
    answer = { ...(answer as object), dry_run: false };
    await user.click(screen.getByRole('button', { name: /^Import/ }));
    expect((await screen.findByTestId('import-summary')).textContent).toContain('Created 1');
    expect(calls[1]?.options.params).toEqual({ query: { dry_run: false, format: 'csv' } });
  });
});
