'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { useForm } from 'react-hook-form';
import { type NewUser, newUserSchema, showProblem } from '../lib/forms';
import { Button, Field } from './ui';

/**
 * Username, e-mail and password with the API's rules, for first-run setup and registration.
 * submit answers the problem of a refused request, or null when it went through.
 */
export function NewUserForm({
  submitLabel,
  submit,
}: {
  submitLabel: string;
  submit: (values: NewUser) => Promise<unknown | null>;
}) {
  const {
    register,
    handleSubmit,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<NewUser>({
    resolver: zodResolver(newUserSchema),
    defaultValues: { username: '', email: '', password: '' },
  });

  const onSubmit = handleSubmit(async (values) => {
    const problem = await submit(values);
    if (problem !== null) showProblem(problem, ['username', 'email', 'password'], setError);
  });

  return (
    <form onSubmit={onSubmit} noValidate className="space-y-4">
      <Field
        label="Username"
        autoComplete="username"
        autoFocus
        error={errors.username?.message}
        {...register('username')}
      />
      <Field
        label="E-mail"
        type="email"
        autoComplete="email"
        error={errors.email?.message}
        {...register('email')}
      />
      <Field
        label="Password"
        type="password"
        autoComplete="new-password"
        hint="12 characters or more; a passphrase is best."
        error={errors.password?.message}
        {...register('password')}
      />
      <Button type="submit" className="w-full" disabled={isSubmitting}>
        {isSubmitting ? 'Please wait…' : submitLabel}
      </Button>
    </form>
  );
}
