import { act, cleanup, render, screen } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Toaster } from 'sonner';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SecretField, spokenName } from '../src/components/secret-field';
import { TOTP_LIVE_PERIODS, type TotpAnswer, TotpCode } from '../src/components/totp-code';

let clipboard = '';
/** A clipboard the test can read (installed after userEvent.setup(), which brings its own). */
function installClipboard() {
  Object.defineProperty(navigator, 'clipboard', {
    configurable: true,
    value: {
      writeText: vi.fn(async (text: string) => {
        clipboard = text;
      }),
      readText: vi.fn(async () => clipboard),
    },
  });
}
beforeEach(() => {
  vi.useFakeTimers({ shouldAdvanceTime: true });
  clipboard = '';
});
afterEach(() => {
  cleanup();
  vi.useRealTimers();
});

const user = () => {
  const u = userEvent.setup({ advanceTimers: vi.advanceTimersByTime });
  installClipboard();
  return u;
};

describe('SecretField', () => {
  it('asks the API on reveal, shows the value with a countdown and hides it after 30 s', async () => {
    const reveal = vi.fn(async () => 'hunter2 but longer');
    render(<SecretField label="Password" stored reveal={reveal} />);
    const value = screen.getByTestId('secret-password');
    expect(value.textContent).not.toContain('hunter2');
    expect(reveal).not.toHaveBeenCalled();

    await user().click(screen.getByRole('button', { name: 'Reveal password' }));
    expect(reveal).toHaveBeenCalledTimes(1);
    expect(value.textContent).toBe('hunter2 but longer');
    expect(screen.getByText('30 s')).toBeTruthy();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(10_000);
    });
    expect(screen.getByText('20 s')).toBeTruthy();
    await act(async () => {
      await vi.advanceTimersByTimeAsync(20_000);
    });
    expect(value.textContent).not.toContain('hunter2');
    expect(screen.getByRole('button', { name: 'Reveal password' })).toBeTruthy();
  });

  it('copies without showing, and empties the clipboard after 30 s if it still holds the secret', async () => {
    const reveal = vi.fn(async () => 'JBSWY3DPEHPK3PXP');
    render(
      <>
        <SecretField label="2FA secret" stored reveal={reveal} />
        <Toaster />
      </>,
    );
    await user().click(screen.getByRole('button', { name: 'Copy 2FA secret' }));
    expect(clipboard).toBe('JBSWY3DPEHPK3PXP');
    expect(screen.getByTestId('secret-2FA-secret').textContent).not.toContain('JBSW');
    await act(async () => {
      await vi.advanceTimersByTimeAsync(30_000);
    });
    expect(clipboard).toBe('');
  });

  it('leaves the clipboard alone when something else was copied meanwhile', async () => {
    render(<SecretField label="Password" stored reveal={async () => 'pw'} />);
    await user().click(screen.getByRole('button', { name: 'Copy password' }));
    expect(clipboard).toBe('pw');
    clipboard = 'something the user copied later';
    await act(async () => {
      await vi.advanceTimersByTimeAsync(31_000);
    });
    expect(clipboard).toBe('something the user copied later');
  });

  it('offers nothing to reveal when no value is stored', () => {
    render(<SecretField label="Password" stored={false} reveal={vi.fn()} />);
    expect(screen.getByText('not stored')).toBeTruthy();
    expect(screen.queryByRole('button')).toBeNull();
  });
});

describe('TotpCode', () => {
  /** Renders the code and asks for it, as a person does. */
  const shown = async (load: () => Promise<TotpAnswer>) => {
    render(<TotpCode load={load} />);
    await user().click(screen.getByRole('button', { name: 'Show 2FA code' }));
  };
  const answer = (code: string, remaining: number): TotpAnswer => ({
    code,
    period: 30,
    remaining_s: remaining,
    kind: 'totp',
  });

  it('counts the seconds down on the ring and fetches the next code when the period ends', async () => {
    const load = vi
      .fn<() => Promise<TotpAnswer>>()
      .mockResolvedValueOnce(answer('123456', 5))
      .mockResolvedValueOnce(answer('654321', 30));
    await shown(load);
    expect((await screen.findByTestId('totp-code')).textContent).toBe('123456');
    const ring = screen.getByTestId('totp-ring');
    expect(ring.getAttribute('data-remaining')).toBe('5');
    await act(async () => {
      await vi.advanceTimersByTimeAsync(3_000);
    });
    expect(ring.getAttribute('data-remaining')).toBe('2');
    expect(ring.getAttribute('aria-label')).toBe('2 seconds left');
    await act(async () => {
      await vi.advanceTimersByTimeAsync(2_100);
    });
    expect(load).toHaveBeenCalledTimes(2);
    expect(screen.getByTestId('totp-code').textContent).toBe('654321');
    expect(screen.getByTestId('totp-ring').getAttribute('data-remaining')).toBe('30');
  });

  it('copies the code', async () => {
    await shown(async () => answer('777777', 20));
    await screen.findByText('777777');
    await user().click(screen.getByRole('button', { name: 'Copy 2FA code' }));
    expect(clipboard).toBe('777777');
  });

  it(`pauses after ${TOTP_LIVE_PERIODS} codes in a row (each read is audited) until resumed`, async () => {
    let n = 0;
    const load = vi.fn(async () => answer(String(100000 + n++), 1));
    await shown(load);
    await screen.findByTestId('totp-code');
    for (let i = 0; i < TOTP_LIVE_PERIODS + 3; i++) {
      await act(async () => {
        await vi.advanceTimersByTimeAsync(1_100);
      });
    }
    expect(load).toHaveBeenCalledTimes(TOTP_LIVE_PERIODS);
    await user().click(screen.getByRole('button', { name: 'Resume 2FA code' }));
    expect(load).toHaveBeenCalledTimes(TOTP_LIVE_PERIODS + 1);
  });

  it('shows why there is no code', async () => {
    await shown(async () => Promise.reject(new Error('The account has no 2FA secret.')));
    expect((await screen.findByRole('alert')).textContent).toBe('The account has no 2FA secret.');
  });

  it('reads no code until asked: opening the page is not a reveal', async () => {
    const load = vi.fn(async () => answer('111111', 20));
    render(<TotpCode load={load} />);
    await act(async () => {
      await vi.advanceTimersByTimeAsync(5_000);
    });
    expect(load).not.toHaveBeenCalled();
    expect(screen.queryByTestId('totp-code')).toBeNull();
    await user().click(screen.getByRole('button', { name: 'Show 2FA code' }));
    expect((await screen.findByTestId('totp-code')).textContent).toBe('111111');
    expect(load).toHaveBeenCalledTimes(1);
  });
});

describe('secret names in buttons and messages', () => {
  it('reads every account secret label the same way: first word lower case unless a name', () => {
    expect(
      [
        'Password',
        'E-mail password',
        'Vault password',
        '2FA secret',
        'Steam shared secret',
        'Steam identity secret',
        'Revocation code',
      ].map(spokenName),
    ).toEqual([
      'password',
      'e-mail password',
      'vault password',
      '2FA secret',
      'Steam shared secret',
      'Steam identity secret',
      'revocation code',
    ]);
  });
});
