'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { useForm } from 'react-hook-form';
import { toast } from 'sonner';
import { z } from 'zod';
import type { ApiClient } from '../../api/client';
import { Button, Field } from '../../components/ui';
import { password, showProblem } from '../../lib/forms';

const schema = z
  .object({
    current_password: z.string().min(1, 'Enter your current password.'),
    new_password: password,
    confirm: z.string(),
  })
  .refine((v) => v.new_password === v.confirm, {
    path: ['confirm'],
    message: 'The two new passwords differ.',
  })
  .refine((v) => v.new_password !== v.current_password, {
    path: ['new_password'],
    message: 'Choose a password other than the current one.',
  });
type Values = z.infer<typeof schema>;

/** Change your password: needs the current one; every other session of yours ends. */
export function PasswordForm({ api }: { api: ApiClient }) {
  const {
    register,
    handleSubmit,
    reset,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: { current_password: '', new_password: '', confirm: '' },
  });
  const submit = handleSubmit(async ({ current_password, new_password }) => {
    const result = await api.POST('/api/v1/auth/password', {
      body: { current_password, new_password },
    });
    if (result.response.ok) {
      toast.success('Password changed. Your other sessions have ended.');
      reset();
      return;
    }
    // A wrong current password is a 400 with a field error at current_password.
    showProblem<Values>(result.error, ['current_password', 'new_password'], setError);
  });
  return (
    <form onSubmit={submit} noValidate className="max-w-md space-y-3">
      <Field
        label="Current password"
        type="password"
        autoComplete="current-password"
        {...register('current_password')}
        error={errors.current_password?.message}
      />
      <Field
        label="New password"
        type="password"
        autoComplete="new-password"
        hint="12 characters or more; a passphrase is best."
        {...register('new_password')}
        error={errors.new_password?.message}
      />
      <Field
        label="Repeat the new password"
        type="password"
        autoComplete="new-password"
        {...register('confirm')}
        error={errors.confirm?.message}
      />
      <Button type="submit" disabled={isSubmitting}>
        {isSubmitting ? 'Changing…' : 'Change password'}
      </Button>
    </form>
  );
}
