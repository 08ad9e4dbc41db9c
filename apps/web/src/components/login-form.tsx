'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { useCallback, useEffect, useState } from 'react';
import { useForm } from 'react-hook-form';
import type { ApiClient } from '../api/client';
import { problemMessage } from '../api/problem';
import type { LoginResponse } from '../api/session';
import { LoginSecondStep } from '../features/mfa/login-second-step';
import { ceremonyMessage, passkeyLogin, passkeysSupported } from '../features/mfa/passkeys';
import { isChallenge, type LoginChallenge } from '../features/mfa/queries';
import { type LoginValues, loginSchema, showProblem } from '../lib/forms';
import { Button, Field } from './ui';

/**
 * Username (or e-mail) and password, then, for a user with a second factor (or one an admin
 * requires), the second step; calls onLoggedIn with the tokens of the finished login.
 */
export function LoginForm({
  api,
  onLoggedIn,
}: {
  api: ApiClient;
  onLoggedIn: (answer: LoginResponse) => void;
}) {
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<LoginValues>({
    resolver: zodResolver(loginSchema),
    defaultValues: { username: '', password: '' },
  });

  const [challenge, setChallenge] = useState<LoginChallenge | null>(null);
  const restart = useCallback(() => setChallenge(null), []);
  const [passkeyBusy, setPasskeyBusy] = useState(false);
  const [passkeyError, setPasskeyError] = useState<string | undefined>();
  // Known only in the browser: decided after hydration, so the server's HTML matches.
  const [canPasskey, setCanPasskey] = useState(false);
  useEffect(() => setCanPasskey(passkeysSupported()), []);

  /** Passwordless: the browser offers the passkeys it holds for this site. */
  const withPasskey = async () => {
    setPasskeyBusy(true);
    setPasskeyError(undefined);
    try {
      const { data, error } = await passkeyLogin(api);
      if (data) onLoggedIn(data);
      else setPasskeyError(problemMessage(error));
    } catch (err) {
      setPasskeyError(ceremonyMessage(err));
    } finally {
      setPasskeyBusy(false);
    }
  };

  const onSubmit = handleSubmit(async (values) => {
    const { data, error } = await api.POST('/api/v1/auth/login', { body: values });
    if (data && isChallenge(data)) setChallenge(data);
    else if (data) onLoggedIn(data);
    else showProblem(error, ['username', 'password'], setError);
  });

  if (challenge) {
    return (
      <LoginSecondStep
        api={api}
        challenge={challenge}
        onLoggedIn={onLoggedIn}
        onRestart={restart}
      />
    );
  }

  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4" aria-label="Log in">
      <Field
        label="Username or e-mail"
        autoComplete="username"
        autoFocus
        error={errors.username?.message}
        {...register('username')}
      />
      <Field
        label="Password"
        type="password"
        autoComplete="current-password"
        error={errors.password?.message}
        {...register('password')}
      />
      <Button type="submit" className="w-full" disabled={isSubmitting}>
        {isSubmitting ? 'Logging in…' : 'Log in'}
      </Button>
      {canPasskey ? (
        <Button
          type="button"
          variant="secondary"
          className="w-full"
          disabled={passkeyBusy}
          onClick={withPasskey}
        >
          {passkeyBusy ? 'Waiting for the passkey…' : 'Sign in with a passkey'}
        </Button>
      ) : null}
      {passkeyError ? (
        <p role="alert" className="text-sm text-red-600 dark:text-red-400">
          {passkeyError}
        </p>
      ) : null}
    </form>
  );
}
