import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { afterEach, describe, expect, it, vi } from 'vitest';

vi.mock('next/link', () => ({ default: (props: { children: unknown }) => props.children }));

const post = vi.fn();
vi.mock('../src/lib/api', async (original) => ({
  ...(await original<typeof import('../src/lib/api')>()),
  api: { POST: (...args: unknown[]) => post(...args) },
}));

const { MaFilesImport } = await import('../src/features/accounts/mafile-import');

afterEach(() => {
  cleanup();
  post.mockReset();
});

const ok = (data: unknown) => ({ data, response: new Response(null, { status: 200 }) });
const answer = (over: Record<string, unknown> = {}) => ({
  dry_run: true,
  total: 2,
  created: 2,
  updated: 0,
  decrypted: 1,
  failed: 0,
  errors: [],
  errors_total: 0,
  errors_truncated: false,
  ...over,
});

function renderIt() {
  render(
    <QueryClientProvider client={new QueryClient()}>
      <MaFilesImport />
    </QueryClientProvider>,
  );
}

const folder = () => [
  new File(['{"encrypted":true,"entries":[]}'], 'manifest.json'),
  new File(['ZQqJk4KW7pb5bndkra244z3ttIks58Up'], '76561198000000001.maFile'),
  new File(['{"account_name":"a","shared_secret":"x"}'], '76561198000000002.maFile'),
  new File(['not ours'], 'notes.txt'),
];

describe('MaFilesImport', () => {
  it('sends the manifest and .maFiles with the passkey, checks, then imports', async () => {
    renderIt();
    const user = userEvent.setup();
    await user.upload(screen.getByLabelText('Choose files'), folder());
    expect((await screen.findByTestId('mafiles-chosen')).textContent).toBe(
      '2 Steam Guard files, 1 encrypted; manifest.json included.',
    );
    await user.type(screen.getByLabelText('SDA passkey'), 'my passkey');
    post.mockResolvedValueOnce(ok(answer()));
    await user.click(screen.getByRole('button', { name: 'Check' }));
    expect((await screen.findByTestId('mafiles-summary')).textContent).toBe(
      'Would create 2, update 0 (1 decrypted); 0 failed.',
    );
    const [url, options] = post.mock.calls[0] as [string, { params: unknown; body: unknown }];
    expect(url).toBe('/api/v1/accounts/import/mafiles');
    expect(options.params).toEqual({ query: { dry_run: true } });
    const body = options.body as { files: Array<{ name: string }>; passkey: string };
    expect(body.passkey).toBe('my passkey');
    expect(body.files.map((f) => f.name)).toEqual([
      'manifest.json',
      '76561198000000001.maFile',
      '76561198000000002.maFile',
    ]);

    post.mockResolvedValueOnce(ok(answer({ dry_run: false })));
    await user.click(screen.getByRole('button', { name: 'Import 2 accounts' }));
    expect((await screen.findByTestId('mafiles-summary')).textContent).toContain('Created 2');
    expect((post.mock.calls[1] as [string, { params: unknown }])[1].params).toEqual({
      query: { dry_run: false },
    });
    // The passkey is not kept once the import is done.
    expect(screen.queryByDisplayValue('my passkey')).toBeNull();
  });

  it('shows a refusal and the files it names', async () => {
    renderIt();
    const user = userEvent.setup();
    await user.upload(screen.getByLabelText('Choose files'), folder());
    post.mockResolvedValueOnce({
      error: {
        type: 'urn:accountdb:problem:passkey_required',
        title: 'Bad Request',
        status: 400,
        detail: 'The file 76561198000000001.maFile is encrypted: give the SDA passkey.',
        code: 'passkey_required',
      },
      response: new Response(null, { status: 400 }),
    });
    await user.click(screen.getByRole('button', { name: 'Check' }));
    expect((await screen.findByRole('alert')).textContent).toBe(
      'The file 76561198000000001.maFile is encrypted: give the SDA passkey.',
    );
    post.mockResolvedValueOnce({
      error: {
        type: 'urn:accountdb:problem:mafiles_refused',
        title: 'Unprocessable Content',
        status: 422,
        detail: '1 of 2 files cannot be imported; nothing was written.',
        code: 'mafiles_refused',
        errors: [
          { path: '/body/files/2', message: '76561198000000002.maFile: shared_secret is 1 bytes' },
        ],
      },
      response: new Response(null, { status: 422 }),
    });
    await user.click(screen.getByRole('button', { name: 'Check' }));
    expect(await screen.findByText('shared_secret is 1 bytes')).toBeTruthy();
    expect(screen.getByText('76561198000000002.maFile')).toBeTruthy();
  });
});
