import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { cleanup, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Toaster } from 'sonner';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createApiClient } from '../src/api/client';
import { SessionStore } from '../src/api/session';

/**
 * Passkeys in the web UI: "Sign in with a passkey" on the login page (passwordless), "Use a
 * passkey" on the second step when the challenge offers webauthn, and Settings → Security →
 * Passkeys (add with a name, list, remove with a passkey proof). The browser's ceremonies
 * (@simplewebauthn/browser) are stubbed: they answer a fixed credential.
 */

const startAuthentication = vi.fn();
const startRegistration = vi.fn();
vi.mock('@simplewebauthn/browser', () => ({
  browserSupportsWebAuthn: () => true,
  startAuthentication: (...args: unknown[]) => startAuthentication(...args),
  startRegistration: (...args: unknown[]) => startRegistration(...args),
}));

const apiCalls: Array<{ method: string; url: string; body: unknown }> = [];
const apiAnswers: Array<{ data?: unknown; error?: unknown; ok?: boolean }> = [];
const fakeCall =
  (method: string) =>
  async (url: string, init?: { body?: unknown; params?: { path?: { id?: string } } }) => {
    const path = url.replace('{id}', init?.params?.path?.id ?? '');
    apiCalls.push({ method, url: path, body: init?.body });
    const next = apiAnswers.shift();
    if (!next) throw new Error(`unexpected ${method} ${path}`);
    return { ...next, response: new Response(null, { status: next.ok === false ? 400 : 200 }) };
  };
vi.mock('../src/lib/api', async (original) => ({
  ...(await original<typeof import('../src/lib/api')>()),
  api: { GET: fakeCall('GET'), POST: fakeCall('POST'), PATCH: fakeCall('PATCH') },
}));

const { LoginForm } = await import('../src/components/login-form');
const { PasskeysSection } = await import('../src/features/mfa/passkeys-section');
const { UserMfaCard } = await import('../src/features/mfa/admin-mfa');

afterEach(cleanup);
beforeEach(() => {
  startAuthentication.mockReset();
  startRegistration.mockReset();
  apiCalls.length = 0;
  apiAnswers.length = 0;
});

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), {
    status,
    headers: {
      'content-type': status >= 400 ? 'application/problem+json' : 'application/json',
    },
  });

const tokens = {
  access_token: 'eyJ.access',
  token_type: 'Bearer',
  expires_in: 900,
  refresh_token: 'adb_rt_x',
  refresh_expires_at: '2099-01-01T00:00:00.000Z',
  user: { id: 'u1', username: 'alice' },
};

const assertion = {
  id: 'cred1',
  rawId: 'cred1',
  type: 'public-key',
  response: { clientDataJSON: 'cd', authenticatorData: 'ad', signature: 'sig', userHandle: 'uh' },
  clientExtensionResults: {},
};
const options = {
  challenge_id: '0194c3a2-7b7e-7c3e-9f1a-2b3c4d5e6f70',
  options: { challenge: 'abc' },
};

/** The login form over a fake API answering the queued responses in order. */
function renderLogin(answers: Response[]) {
  const requests: Array<{ url: string; body: unknown }> = [];
  const fetchImpl = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    requests.push({ url: new URL(request.url).pathname, body: await request.json() });
    const next = answers.shift();
    if (!next)
      throw new Error(`unexpected request ${request.url} after ${JSON.stringify(requests)}`);
    return next;
  }) as unknown as typeof fetch;
  const session = new SessionStore(fetchImpl, 'http://web.test');
  const client = createApiClient({
    session,
    onSessionEnd: vi.fn(),
    baseUrl: 'http://web.test',
    fetch: fetchImpl,
  });
  const onLoggedIn = vi.fn();
  render(
    <>
      <LoginForm api={client} onLoggedIn={onLoggedIn} />
      <Toaster />
    </>,
  );
  return { requests, onLoggedIn };
}

describe('login with a passkey', () => {
  it('signs in with a passkey alone: options, the prompt, then the assertion', async () => {
    startAuthentication.mockResolvedValue(assertion);
    const { requests, onLoggedIn } = renderLogin([json(200, options), json(200, tokens)]);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Sign in with a passkey' }));
    await waitFor(() => expect(onLoggedIn).toHaveBeenCalledWith(tokens));
    expect(startAuthentication).toHaveBeenCalledWith({ optionsJSON: options.options });
    expect(requests).toEqual([
      { url: '/api/v1/auth/login/passkey/options', body: {} },
      {
        url: '/api/v1/auth/login/passkey',
        body: { challenge_id: options.challenge_id, credential: assertion },
      },
    ]);
  });

  it('shows a refused passkey and a cancelled prompt without logging in', async () => {
    startAuthentication.mockResolvedValueOnce(assertion);
    const { onLoggedIn } = renderLogin([
      json(200, options),
      json(401, {
        type: 'about:blank',
        title: 'Unauthorized',
        status: 401,
        code: 'invalid_passkey',
        detail: 'The passkey was not accepted; try again.',
      }),
      json(200, options),
    ]);
    const user = userEvent.setup();
    await user.click(screen.getByRole('button', { name: 'Sign in with a passkey' }));
    expect(await screen.findByText('The passkey was not accepted; try again.')).toBeTruthy();
    startAuthentication.mockRejectedValueOnce(
      Object.assign(new Error('no'), { name: 'NotAllowedError' }),
    );
    await user.click(screen.getByRole('button', { name: 'Sign in with a passkey' }));
    expect(await screen.findByText('The passkey prompt was cancelled or timed out.')).toBeTruthy();
    expect(onLoggedIn).not.toHaveBeenCalled();
  });

  it('offers "Use a passkey" on the second step when the challenge has webauthn', async () => {
    startAuthentication.mockResolvedValue(assertion);
    const challenge = {
      mfa_required: true,
      purpose: 'mfa',
      challenge: 'eyJ.challenge',
      expires_in: 300,
      methods: ['webauthn', 'recovery_code'],
    };
    const { requests, onLoggedIn } = renderLogin([
      json(200, challenge),
      json(200, options),
      json(200, tokens),
    ]);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Username or e-mail'), 'alice');
    await user.type(screen.getByLabelText('Password'), 'correct horse battery staple');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    // No app: the field takes a recovery code; the passkey is the other way in.
    expect(await screen.findByLabelText('Recovery code')).toBeTruthy();
    await user.click(screen.getByRole('button', { name: 'Use a passkey' }));
    await waitFor(() => expect(onLoggedIn).toHaveBeenCalledWith(tokens));
    expect(requests.slice(1)).toEqual([
      { url: '/api/v1/auth/login/mfa/passkey/options', body: { challenge: 'eyJ.challenge' } },
      {
        url: '/api/v1/auth/login/mfa/passkey',
        body: {
          challenge: 'eyJ.challenge',
          challenge_id: options.challenge_id,
          credential: assertion,
        },
      },
    ]);
  });

  it('has no passkey button on the second step without webauthn', async () => {
    renderLogin([
      json(200, {
        mfa_required: true,
        purpose: 'mfa',
        challenge: 'eyJ.challenge',
        expires_in: 300,
        methods: ['totp', 'recovery_code'],
      }),
    ]);
    const user = userEvent.setup();
    await user.type(screen.getByLabelText('Username or e-mail'), 'alice');
    await user.type(screen.getByLabelText('Password'), 'correct horse battery staple');
    await user.click(screen.getByRole('button', { name: 'Log in' }));
    await screen.findByLabelText('Authentication code');
    expect(screen.queryByRole('button', { name: 'Use a passkey' })).toBeNull();
  });
});

describe('Settings → Security → Passkeys', () => {
  const laptop = {
    id: '0194c3a2-7b7e-7c3e-9f1a-2b3c4d5e6f71',
    name: 'Laptop',
    device_type: 'multiDevice',
    backed_up: true,
    transports: ['internal'],
    created_at: '2026-12-06T20:00:00.000Z',
    last_used_at: null,
  };
  const status = (passkeys: number) => ({
    totp: { enabled: false, pending: false, confirmed_at: null, last_used_at: null },
    passkeys,
    recovery_codes_left: passkeys ? 10 : 0,
    methods: passkeys ? ['webauthn', 'recovery_code'] : [],
    required: false,
  });
  const renderSection = () =>
    render(
      <QueryClientProvider
        client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}
      >
        <PasskeysSection />
        <Toaster />
      </QueryClientProvider>,
    );

  it('adds a first passkey under a name and shows the recovery codes once', async () => {
    startRegistration.mockResolvedValue({ id: 'new', rawId: 'new', type: 'public-key' });
    apiAnswers.push(
      { data: { items: [] } },
      { data: status(0) },
      { data: options },
      { data: { passkey: laptop, recovery_codes: ['k7qm-2xva-p4re-nt6d'] } },
    );
    renderSection();
    const user = userEvent.setup();
    await screen.findByText('No passkeys yet.');
    await user.click(screen.getByRole('button', { name: 'Add a passkey' }));
    expect(await screen.findByText('Give the passkey a name, e.g. “Laptop”.')).toBeTruthy();
    await user.type(screen.getByLabelText('Passkey name'), 'Laptop');
    await user.click(screen.getByRole('button', { name: 'Add a passkey' }));
    expect(await screen.findByText('k7qm-2xva-p4re-nt6d')).toBeTruthy();
    expect(apiCalls.slice(2)).toEqual([
      { method: 'POST', url: '/api/v1/auth/mfa/passkeys/options', body: {} },
      {
        method: 'POST',
        url: '/api/v1/auth/mfa/passkeys',
        body: {
          name: 'Laptop',
          challenge_id: options.challenge_id,
          credential: { id: 'new', rawId: 'new', type: 'public-key' },
        },
      },
    ]);
  });

  it('lists passkeys and removes one after proving a passkey', async () => {
    startAuthentication.mockResolvedValue(assertion);
    apiAnswers.push(
      { data: { items: [laptop] } },
      { data: status(1) },
      { data: options },
      { data: null, ok: true },
      { data: { items: [] } },
      { data: status(0) },
    );
    renderSection();
    const user = userEvent.setup();
    expect(await screen.findByText('Laptop')).toBeTruthy();
    expect(screen.queryByText(/last used never · synced/)).not.toBeNull();
    await user.click(screen.getByRole('button', { name: 'Remove passkey Laptop' }));
    await screen.findByText('No passkeys yet.');
    expect(apiCalls.slice(2, 4)).toEqual([
      { method: 'POST', url: '/api/v1/auth/mfa/passkeys/verify-options', body: {} },
      {
        method: 'POST',
        url: `/api/v1/auth/mfa/passkeys/${laptop.id}/remove`,
        body: { passkey: { challenge_id: options.challenge_id, credential: assertion } },
      },
    ]);
  });
});

describe("an admin's view of a user's second factor", () => {
  it('counts passkeys and offers the reset to a user with passkeys only', async () => {
    apiAnswers.push({
      data: {
        totp: { enabled: false, pending: false, confirmed_at: null, last_used_at: null },
        passkeys: 2,
        recovery_codes_left: 10,
        methods: ['webauthn', 'recovery_code'],
        required: false,
      },
    });
    render(
      <QueryClientProvider
        client={new QueryClient({ defaultOptions: { queries: { retry: false } } })}
      >
        <UserMfaCard id="u-bob" username="bob" />
      </QueryClientProvider>,
    );
    const label = await screen.findByText('Passkeys');
    // The count stands next to its label: bob has two passkeys.
    expect(label.parentElement?.textContent).toContain('2');
    const reset = screen.getByRole('button', { name: 'Reset second factor' }) as HTMLButtonElement;
    expect(reset.disabled).toBe(false);
    expect(apiCalls).toEqual([{ method: 'GET', url: '/api/v1/users/u-bob/mfa', body: undefined }]);
  });
});
