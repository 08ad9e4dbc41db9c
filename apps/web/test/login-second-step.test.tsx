import { cleanup, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Toaster } from 'sonner';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApiClient } from '../src/api/client';
import { SessionStore } from '../src/api/session';
import { LoginForm } from '../src/components/login-form';

/** The login page's second step: a code or recovery code, and setting up a required app. */
afterEach(cleanup);

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': status >= 400 ? 'application/problem+json' : 'application/json',
    },
  });

const problem = (status: number, code: string, detail: string) =>
  json(status, { type: 'about:blank', title: 'Refused', status, code, detail });

const tokens = {
  access_token: 'eyJ.access',
  token_type: 'Bearer',
  expires_in: 900,
  refresh_token: 'adb_rt_x',
  refresh_expires_at: '2099-01-01T00:00:00.000Z',
  user: { id: 'u1', username: 'alice' },
};

const challenge = (purpose: 'mfa' | 'enroll', methods: string[] = ['totp', 'recovery_code']) => ({
  mfa_required: true,
  purpose,
  challenge: 'eyJ.challenge',
  expires_in: 300,
  methods: purpose === 'enroll' ? [] : methods,
});

/** Renders the form over a fake API that answers the queued responses in order. */
function renderWith(answers: Response[]) {
  const requests: Array<{ url: string; body: unknown }> = [];
  const fetchImpl = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    requests.push({ url: new URL(request.url).pathname, body: await request.json() });
    const next = answers.shift();
    if (!next) throw new Error(`unexpected request ${request.url}`);
    return next;
  }) as unknown as typeof fetch;
  const session = new SessionStore(fetchImpl, 'http://web.test');
  const api = createApiClient({
    session,
    onSessionEnd: vi.fn(),
    baseUrl: 'http://web.test',
    fetch: fetchImpl,
  });
  const onLoggedIn = vi.fn();
  render(
    <>
      <LoginForm api={api} onLoggedIn={onLoggedIn} />
      <Toaster />
    </>,
  );
  return { requests, onLoggedIn };
}

async function password(user: ReturnType<typeof userEvent.setup>) {
  await user.type(screen.getByLabelText('Username or e-mail'), 'alice');
  await user.type(screen.getByLabelText('Password'), 'correct horse battery staple');
  await user.click(screen.getByRole('button', { name: 'Log in' }));
}

describe('LoginForm second step', () => {
  it('asks for the app code after the password and keeps a wrong code on the step', async () => {
    const { requests, onLoggedIn } = renderWith([
      json(200, challenge('mfa')),
      problem(401, 'invalid_second_factor', 'The code is wrong or was used already.'),
      json(200, tokens),
    ]);
    const user = userEvent.setup();
    await password(user);
    const field = await screen.findByLabelText('Authentication code');
    expect(onLoggedIn).not.toHaveBeenCalled();

    // Checked before sending: six digits.
    await user.type(field, '12ab');
    await user.click(screen.getByRole('button', { name: 'Verify' }));
    expect(
      await screen.findByText('Enter the 6-digit code of your authenticator app.'),
    ).toBeTruthy();
    expect(requests).toHaveLength(1);

    await user.clear(field);
    await user.type(field, '000000');
    await user.click(screen.getByRole('button', { name: 'Verify' }));
    expect(await screen.findByText('The code is wrong or was used already.')).toBeTruthy();
    expect(screen.getByLabelText('Authentication code').getAttribute('aria-invalid')).toBe('true');

    await user.clear(screen.getByLabelText('Authentication code'));
    await user.type(screen.getByLabelText('Authentication code'), '492039');
    await user.click(screen.getByRole('button', { name: 'Verify' }));
    await waitFor(() => expect(onLoggedIn).toHaveBeenCalledWith(tokens));
    expect(requests.slice(1)).toEqual([
      { url: '/api/v1/auth/login/mfa', body: { challenge: 'eyJ.challenge', code: '000000' } },
      { url: '/api/v1/auth/login/mfa', body: { challenge: 'eyJ.challenge', code: '492039' } },
    ]);
  });

  it('takes a recovery code after "Use a recovery code"', async () => {
    const { requests, onLoggedIn } = renderWith([json(200, challenge('mfa')), json(200, tokens)]);
    const user = userEvent.setup();
    await password(user);
    await user.click(await screen.findByRole('button', { name: 'Use a recovery code' }));
    await user.type(screen.getByLabelText('Recovery code'), 'k7qm-2xva-p4re-nt6d');
    await user.click(screen.getByRole('button', { name: 'Verify' }));
    await waitFor(() => expect(onLoggedIn).toHaveBeenCalledWith(tokens));
    expect(requests[1]).toEqual({
      url: '/api/v1/auth/login/mfa',
      body: { challenge: 'eyJ.challenge', code: 'k7qm-2xva-p4re-nt6d' },
    });
  });

  it('offers no recovery code when the user has none left', async () => {
    renderWith([json(200, challenge('mfa', ['totp']))]);
    await password(userEvent.setup());
    await screen.findByLabelText('Authentication code');
    expect(screen.queryByRole('button', { name: 'Use a recovery code' })).toBeNull();
  });

  it('goes back to the password when the challenge is over or the name is locked', async () => {
    const { onLoggedIn } = renderWith([
      json(200, challenge('mfa')),
      problem(
        401,
        'mfa_challenge_invalid',
        'The login challenge is invalid, used or expired; log in again.',
      ),
    ]);
    const user = userEvent.setup();
    await password(user);
    await user.type(await screen.findByLabelText('Authentication code'), '123456');
    await user.click(screen.getByRole('button', { name: 'Verify' }));
    expect(
      await screen.findByText('The login challenge is invalid, used or expired; log in again.'),
    ).toBeTruthy();
    expect(await screen.findByLabelText('Password')).toBeTruthy();
    expect(onLoggedIn).not.toHaveBeenCalled();
  });

  it('sets up the required app, shows the recovery codes once, then logs in', async () => {
    const codes = Array.from(
      { length: 10 },
      (_, i) => `abcd-efgh-ijkl-mn${String(i).padStart(2, '2')}`,
    );
    const { requests, onLoggedIn } = renderWith([
      json(200, challenge('enroll')),
      json(200, {
        secret: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
        otpauth_uri: 'otpauth://totp/AccountDB:alice?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
        qr_code: 'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=',
      }),
      json(200, { ...tokens, recovery_codes: codes }),
    ]);
    const user = userEvent.setup();
    await password(user);
    expect((await screen.findByTestId('totp-secret')).textContent).toBe(
      'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
    );
    expect(screen.getByAltText('QR code of the authenticator secret').getAttribute('src')).toBe(
      'data:image/svg+xml;base64,PHN2Zz48L3N2Zz4=',
    );
    await user.type(screen.getByLabelText('Code from the app'), '492039');
    await user.click(screen.getByRole('button', { name: 'Turn on' }));
    expect(await screen.findAllByTestId('recovery-code')).toHaveLength(10);
    expect(onLoggedIn).not.toHaveBeenCalled();
    await user.click(screen.getByRole('button', { name: 'I have saved them' }));
    await waitFor(() => expect(onLoggedIn).toHaveBeenCalledTimes(1));
    expect(requests.map((r) => r.url)).toEqual([
      '/api/v1/auth/login',
      '/api/v1/auth/login/mfa/enroll',
      '/api/v1/auth/login/mfa',
    ]);
    expect(requests[2]?.body).toEqual({ challenge: 'eyJ.challenge', code: '492039' });
  });
});
