'use client';

import { zodResolver } from '@hookform/resolvers/zod';
import { useQueryClient } from '@tanstack/react-query';
import { useForm } from 'react-hook-form';
import { toast } from 'sonner';
import { z } from 'zod';
import { ApiError } from '../../api/problem';
import { Dialog } from '../../components/dialog';
import { Button, Field, SelectField } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { email, password, showProblem, username } from '../../lib/forms';
import { userKeys } from './queries';

const schema = z.object({ username, email, password, role: z.enum(['user', 'admin']) });
type Values = z.infer<typeof schema>;

/** An admin creates a user with a first password and a role. */
export function NewUserDialog({ open, onClose }: { open: boolean; onClose: () => void }) {
  const queryClient = useQueryClient();
  const {
    register,
    handleSubmit,
    reset,
    setError,
    formState: { errors, isSubmitting },
  } = useForm<Values>({
    resolver: zodResolver(schema),
    defaultValues: { username: '', email: '', password: '', role: 'user' },
  });
  const close = () => {
    reset();
    onClose();
  };
  const submit = handleSubmit(async (values) => {
    try {
      const user = unwrap(await api.POST('/api/v1/users', { body: values }));
      toast.success(`Created ${user.username}. Give them their password over a safe channel.`);
      await queryClient.invalidateQueries({ queryKey: userKeys.all });
      close();
    } catch (error) {
      showProblem<Values>(
        error instanceof ApiError ? error.problem : error,
        ['username', 'email', 'password', 'role'],
        setError,
      );
    }
  });
  return (
    <Dialog open={open} onClose={close} title="New user">
      <form onSubmit={submit} noValidate className="space-y-3">
        <Field
          label="Username"
          autoComplete="off"
          {...register('username')}
          error={errors.username?.message}
        />
        <Field
          label="E-mail"
          type="email"
          autoComplete="off"
          {...register('email')}
          error={errors.email?.message}
        />
        <Field
          label="Password"
          type="password"
          autoComplete="new-password"
          hint="12 characters or more."
          {...register('password')}
          error={errors.password?.message}
        />
        <SelectField
          label="Role"
          options={[
            { value: 'user', label: 'user: their own inventory' },
            {
              value: 'admin',
              label: 'admin: also manages users; sees everyone’s data after choosing All users',
            },
          ]}
          {...register('role')}
        />
        <div className="flex justify-end gap-2 pt-2">
          <Button variant="ghost" onClick={close}>
            Cancel
          </Button>
          <Button type="submit" disabled={isSubmitting}>
            {isSubmitting ? 'Creating…' : 'Create user'}
          </Button>
        </div>
      </form>
    </Dialog>
  );
}
