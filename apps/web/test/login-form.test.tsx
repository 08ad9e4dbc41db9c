import { cleanup, render, screen, waitFor } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { Toaster } from 'sonner';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createApiClient } from '../src/api/client';
import { SessionStore } from '../src/api/session';
import { LoginForm } from '../src/components/login-form';

afterEach(cleanup);

const problemResponse = (status: number, body: Record<string, unknown>) =>
  new Response(JSON.stringify({ type: 'about:blank', status, ...body }), {
    status,
    headers: { 'content-type': 'application/problem+json' },
  });

function renderForm(answer: () => Response) {
  const requests: Array<{ url: string; body: unknown }> = [];
  const fetchImpl = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const request = new Request(input, init);
    requests.push({ url: new URL(request.url).pathname, body: await request.json() });
    return answer();
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

async function fillAndSubmit(username: string, password: string) {
  const user = userEvent.setup();
  if (username) await user.type(screen.getByLabelText('Username or e-mail'), username);
  if (password) await user.type(screen.getByLabelText('Password'), password);
  await user.click(screen.getByRole('button', { name: 'Log in' }));
}

describe('LoginForm', () => {
  it('checks the fields before sending anything', async () => {
    const { requests } = renderForm(() => problemResponse(500, {}));
    await fillAndSubmit('', '');
    expect(await screen.findByText('Enter your username or e-mail.')).toBeTruthy();
    expect(screen.getByText('Enter your password.')).toBeTruthy();
    expect(screen.getByLabelText('Username or e-mail').getAttribute('aria-invalid')).toBe('true');
    expect(requests).toHaveLength(0);
  });

  it('shows the field errors of a problem+json answer next to their fields', async () => {
    const { requests, onLoggedIn } = renderForm(() =>
      problemResponse(400, {
        title: 'Bad Request',
        code: 'validation_error',
        detail: '/body/username must NOT have more than 254 characters',
        errors: [
          { path: '/body/username', message: 'must NOT have more than 254 characters' },
          { path: '/query/x', message: 'ignored: not a field of the form' },
        ],
      }),
    );
    await fillAndSubmit('alice', 'correct horse battery staple');

    const error = await screen.findByText('must NOT have more than 254 characters');
    const input = screen.getByLabelText('Username or e-mail');
    expect(input.getAttribute('aria-invalid')).toBe('true');
    expect(input.getAttribute('aria-describedby')).toBe(error.id);
    expect(screen.queryByText('ignored: not a field of the form')).toBeNull();
    expect(requests).toEqual([
      {
        url: '/api/v1/auth/login',
        body: { username: 'alice', password: 'correct horse battery staple' },
      },
    ]);
    expect(onLoggedIn).not.toHaveBeenCalled();
  });

  it('shows a problem without field errors as a toast', async () => {
    const { onLoggedIn } = renderForm(() =>
      problemResponse(401, {
        title: 'Unauthorized',
        code: 'invalid_credentials',
        detail: 'Wrong username or password.',
      }),
    );
    await fillAndSubmit('alice', 'wrong password');
    expect(await screen.findByText('Wrong username or password.')).toBeTruthy();
    expect(screen.getByLabelText('Password').getAttribute('aria-invalid')).toBeNull();
    expect(onLoggedIn).not.toHaveBeenCalled();
  });

  it('hands the login answer over on success', async () => {
    const answer = {
      access_token: 'eyJ.access',
      token_type: 'Bearer',
      expires_in: 900,
      refresh_token: 'adb_rt_x',
      refresh_expires_at: '2099-01-01T00:00:00.000Z',
      user: { id: 'u1', username: 'alice' },
    };
    const { onLoggedIn } = renderForm(() => new Response(JSON.stringify(answer), { status: 200 }));
    await fillAndSubmit('alice', 'correct horse battery staple');
    await waitFor(() => expect(onLoggedIn).toHaveBeenCalledWith(answer));
  });
});
