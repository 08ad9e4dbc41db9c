'use client';

import Link from 'next/link';
import { useRouter } from 'next/navigation';
import { toast } from 'sonner';
import { AuthCard } from '../../components/auth-card';
import { NewUserForm } from '../../components/new-user-form';
import { api, session } from '../../lib/api';
import { useSetupStatus } from '../../lib/queries';

export default function RegisterPage() {
  const router = useRouter();
  const setup = useSetupStatus();
  const loginLink = (
    <Link href="/login" className="font-medium text-indigo-600 dark:text-indigo-400">
      Log in
    </Link>
  );

  return (
    <AuthCard title="Create an account" footer={<>Already have one? {loginLink}</>}>
      {setup.isPending ? (
        <p className="text-sm text-zinc-500" aria-busy="true">
          Checking…
        </p>
      ) : setup.data?.registration_open ? (
        <NewUserForm
          submitLabel="Create account"
          submit={async (body) => {
            const created = await api.POST('/api/v1/auth/register', { body });
            if (!created.data) return created.error ?? null;
            const login = await api.POST('/api/v1/auth/login', {
              body: { username: body.username, password: body.password },
            });
            // Where an admin requires a second factor, the login page sets one up first.
            if (!login.data || 'mfa_required' in login.data) {
              toast.success('Your account was created; log in now.');
              router.replace('/login');
              return null;
            }
            session.set(login.data);
            toast.success(`Welcome, ${login.data.user.username}.`);
            router.replace('/');
            return null;
          }}
        />
      ) : (
        <p className="text-sm">
          Registration is closed on this installation. Ask an administrator for an account.
        </p>
      )}
    </AuthCard>
  );
}
