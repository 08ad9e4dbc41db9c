'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { useEffect } from 'react';
import { toast } from 'sonner';
import { AuthCard } from '../../components/auth-card';
import { session } from '../../lib/api';

export default function LogoutPage() {
  const router = useRouter();
  const queryClient = useQueryClient();

  useEffect(() => {
    session
      .logout()
      .catch(() => undefined)
      .finally(() => {
        queryClient.clear();
        toast.success('You are logged out.');
        router.replace('/login');
      });
  }, [queryClient, router]);

  return (
    <AuthCard title="Logging out…">
      <p className="text-sm text-zinc-500" aria-busy="true">
        Ending your session.
      </p>
    </AuthCard>
  );
}
