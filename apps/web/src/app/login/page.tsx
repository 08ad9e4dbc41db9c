'use client';

import Link from 'next/link';
import { useRouter, useSearchParams } from 'next/navigation';
import { Suspense, useEffect } from 'react';
import { AuthCard } from '../../components/auth-card';
import { LoginForm } from '../../components/login-form';
import { api, safeNext, session } from '../../lib/api';
import { useSetupStatus } from '../../lib/queries';

function Login() {
  const router = useRouter();
  const next = safeNext(useSearchParams().get('next'));
  const setup = useSetupStatus();

  useEffect(() => {
    if (setup.data?.needed) router.replace('/setup');
  }, [setup.data?.needed, router]);

  return (
    <AuthCard
      title="Log in"
      footer={
        setup.data?.registration_open ? (
          <>
            No account yet?{' '}
            <Link href="/register" className="font-medium text-indigo-600 dark:text-indigo-400">
              Create one
            </Link>
          </>
        ) : null
      }
    >
      <LoginForm
        api={api}
        onLoggedIn={(answer) => {
          session.set(answer);
          router.replace(next);
        }}
      />
    </AuthCard>
  );
}

export default function LoginPage() {
  return (
    <Suspense>
      <Login />
    </Suspense>
  );
}
