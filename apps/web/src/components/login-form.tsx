'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { useForm } from 'react-hook-form';
import type { ApiClient } from '../api/client';
import type { LoginResponse } from '../api/session';
import { type LoginValues, loginSchema, showProblem } from '../lib/forms';
import { Button, Field } from './ui';

/** Username (or e-mail) and password; calls onLoggedIn with the login answer. */
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

  const onSubmit = handleSubmit(async (values) => {
    const { data, error } = await api.POST('/api/v1/auth/login', { body: values });
    if (data) onLoggedIn(data);
    else showProblem(error, ['username', 'password'], setError);
  });

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
    </form>
  );
}
