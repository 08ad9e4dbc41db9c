'use client';

import { useRouter } from 'next/navigation';
import { useEffect, useState } from 'react';
import { toast } from 'sonner';
import { AuthCard } from '../../components/auth-card';
import { NewUserForm } from '../../components/new-user-form';
import { api, session } from '../../lib/api';
import { useSetupStatus } from '../../lib/queries';

export default function SetupPage() {
  const router = useRouter();
  const setup = useSetupStatus();
  // Once this visitor has created the admin, the page goes to the dashboard, not to login.
  const [created, setCreated] = useState(false);

  useEffect(() => {
    if (!created && setup.data && !setup.data.needed) router.replace('/login');
  }, [created, setup.data, router]);

  return (
    <AuthCard
      title="Welcome to AccountDB"
      subtitle="Create the first account. It becomes the administrator of this installation."
    >
      {setup.data?.needed || created ? (
        <NewUserForm
          submitLabel="Create administrator"
          submit={async (body) => {
            const { data, error } = await api.POST('/api/v1/auth/setup', { body });
            if (!data) return error ?? null;
            setCreated(true);
            session.set(data);
            toast.success(`Welcome, ${data.user.username}. You are the administrator.`);
            router.replace('/');
            return null;
          }}
        />
      ) : (
        <p className="text-sm text-zinc-500" aria-busy="true">
          Checking…
        </p>
      )}
    </AuthCard>
  );
}
