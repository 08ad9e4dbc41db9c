import { cleanup, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { useState } from 'react';
import { Toaster } from 'sonner';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ApiError } from '../src/api/problem';
import { AccountForm, toBody } from '../src/features/accounts/account-form';
import type { Account } from '../src/features/accounts/queries';
import { parseVmid, WhitelistEditor } from '../src/features/nodes/whitelist-editor';

afterEach(cleanup);

/** The editor over a fake server that keeps the node's whitelist like the API does. */
function Harness({ skipped, calls }: { skipped: number[]; calls: string[] }) {
  const [mode, setMode] = useState<'all' | 'whitelist'>('whitelist');
  const [whitelist, setWhitelist] = useState<number[]>([100]);
  const server = async (call: string, change: () => void) => {
    calls.push(call);
    await new Promise((r) => setTimeout(r, 5));
    change();
  };
  return (
    <WhitelistEditor
      mode={mode}
      whitelist={whitelist}
      skipped={skipped}
      onMode={(m) => server(`mode ${m}`, () => setMode(m))}
      onAdd={(v) =>
        server(`add ${v}`, () => setWhitelist((w) => [...new Set([...w, v])].sort((a, b) => a - b)))
      }
      onRemove={(v) => server(`remove ${v}`, () => setWhitelist((w) => w.filter((x) => x !== v)))}
      onAddAll={(vs) =>
        server(`put ${vs.join(',')}`, () =>
          setWhitelist((w) => [...w, ...vs].sort((a, b) => a - b)),
        )
      }
    />
  );
}

describe('WhitelistEditor', () => {
  it('offers the skipped VMIDs; adding one calls the API and moves it onto the whitelist', async () => {
    const calls: string[] = [];
    render(<Harness skipped={[101, 102, 103]} calls={calls} />);
    const user = userEvent.setup();
    const skippedList = screen.getByRole('list', { name: 'Skipped VMIDs' });
    expect(skippedList.textContent).toContain('101');
    await user.click(screen.getByRole('button', { name: 'Add 102 to the whitelist' }));
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'Remove 102 from the whitelist' })).toBeTruthy(),
    );
    expect(calls).toEqual(['add 102']);
    expect(screen.queryByRole('button', { name: 'Add 102 to the whitelist' })).toBeNull();
    expect(screen.getByText('Reported but skipped').parentElement?.textContent).toContain('(2)');

    await user.click(screen.getByRole('button', { name: 'Add all 2' }));
    await waitFor(() =>
      expect(screen.getByText('The agent reported no guest outside the whitelist.')).toBeTruthy(),
    );
    expect(calls.at(-1)).toBe('put 101,103');
  });

  it('checks a typed VMID before sending it', async () => {
    const calls: string[] = [];
    render(<Harness skipped={[]} calls={calls} />);
    const user = userEvent.setup();
    const input = screen.getByRole('textbox', { name: 'VMID' });
    for (const [typed, message] of [
      ['abc', 'A VMID is a whole number, e.g. 101.'],
      ['0', 'A VMID is from 1 to 999999999.'],
      ['100', '100 is already on the whitelist.'],
    ] as const) {
      await user.clear(input);
      await user.type(input, typed);
      await user.click(screen.getByRole('button', { name: 'Add to whitelist' }));
      expect(screen.getByRole('alert').textContent).toBe(message);
      expect(input.getAttribute('aria-invalid')).toBe('true');
    }
    expect(calls).toEqual([]);
    await user.clear(input);
    await user.type(input, ' 250 {Enter}');
    await waitFor(() =>
      expect(screen.getByRole('button', { name: 'Remove 250 from the whitelist' })).toBeTruthy(),
    );
    expect(calls).toEqual(['add 250']);
    expect(screen.queryByRole('alert')).toBeNull();
    expect((input as HTMLInputElement).value).toBe('');
  });

  it('removes an entry and switches the mode, showing the new mode at once', async () => {
    const calls: string[] = [];
    render(<Harness skipped={[]} calls={calls} />);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Remove 100 from the whitelist' }));
    await waitFor(() => expect(screen.getByText('No VMIDs yet.')).toBeTruthy());
    const all = screen.getByRole('radio', { name: 'All guests of the node' }) as HTMLInputElement;
    await user.click(all);
    expect(all.checked).toBe(true);
    await waitFor(() =>
      expect(screen.getByText('Not in effect while all guests are synced.')).toBeTruthy(),
    );
    expect(calls).toEqual(['remove 100', 'mode all']);
  });

  it('parses VMIDs', () => {
    expect(parseVmid(' 101 ')).toBe(101);
    expect(parseVmid('1e3')).toBe('A VMID is a whole number, e.g. 101.');
    expect(parseVmid('1000000000')).toBe('A VMID is from 1 to 999999999.');
  });
});

describe('AccountForm', () => {
  it('mirrors the API rules before sending anything', async () => {
    const onSubmit = vi.fn();
    render(<AccountForm submitLabel="Create account" onSubmit={onSubmit} />);
    const user = userEvent.setup();
    await user.clear(screen.getByLabelText('Service'));
    await user.type(screen.getByLabelText('2FA secret'), 'not base32!');
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    expect(await screen.findByText('Enter the username.')).toBeTruthy();
    expect(screen.getByText('Enter the service, e.g. steam.')).toBeTruthy();
    expect(
      screen.getByText('Base32 letters and digits 2-7, or an otpauth://totp/ URI.'),
    ).toBeTruthy();
    expect(onSubmit).not.toHaveBeenCalled();
  });

  it('sends only what was filled in, and shows the API field errors next to their fields', async () => {
    const onSubmit = vi.fn(async (_body: unknown) => {
      throw new ApiError(409, {
        type: 'urn:accountdb:problem:conflict',
        title: 'Conflict',
        status: 409,
        detail: 'external_id is taken',
        code: 'conflict',
        errors: [
          { path: '/body/external_id', message: 'is already used by another of your accounts' },
        ],
      });
    });
    render(
      <>
        <AccountForm submitLabel="Create account" onSubmit={onSubmit} />
        <Toaster />
      </>,
    );
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Username'), 'farm_001');
    await user.type(screen.getByLabelText('External id'), '7656');
    await user.type(screen.getByLabelText('Password'), 'hunter2 but longer');
    await user.click(screen.getByRole('button', { name: 'Create account' }));
    await waitFor(() => expect(onSubmit).toHaveBeenCalledTimes(1));
    expect(onSubmit.mock.calls[0]?.[0]).toEqual({
      service: 'steam',
      username: 'farm_001',
      external_id: '7656',
      status: 'active',
      tags: [],
      password: 'hunter2 but longer',
    });
    const error = await screen.findByText('is already used by another of your accounts');
    expect(screen.getByLabelText('External id').getAttribute('aria-describedby')).toBe(error.id);
  });

  it('on edit keeps stored secrets unless replaced, and removes one only when asked', () => {
    const values = {
      service: 'steam',
      username: 'a',
      email: '',
      external_id: '',
      status: 'active' as const,
      locked_until: '',
      status_reason: '',
      tags: ['eu'],
      notes: '',
      password: '',
      email_password: 'new mailbox pw',
      vault_password: '',
      totp_secret: '',
      shared_secret: '',
      identity_secret: '',
      revocation_code: '',
      clear: ['password'],
    };
    const body = toBody(values, true);
    expect(body).toMatchObject({ email_password: 'new mailbox pw', password: null, email: null });
    expect(body).not.toHaveProperty('totp_secret');
  });

  it('shows "Remove the stored …" only for secrets the account has', () => {
    const account = {
      id: 'a1',
      service: 'steam',
      username: 'farm',
      status: 'active',
      tags: [],
      has_password: true,
      has_totp_secret: false,
    } as unknown as Account;
    render(<AccountForm account={account} submitLabel="Save changes" onSubmit={vi.fn()} />);
    expect(screen.getByLabelText('Remove the stored password')).toBeTruthy();
    expect(screen.queryByLabelText('Remove the stored 2fa secret')).toBeNull();
    expect((screen.getByLabelText('Password') as HTMLInputElement).placeholder).toBe(
      'stored — type to replace',
    );
  });
});
