'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { toast } from 'sonner';
import { Card, PageHeader } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { AccountForm } from './account-form';
import { accountKeys } from './queries';

export function NewAccount() {
  const router = useRouter();
  const queryClient = useQueryClient();
  return (
    <>
      <PageHeader title="New account" />
      <Card>
        <AccountForm
          submitLabel="Create account"
          onCancel={() => router.push('/accounts')}
          onSubmit={async (body) => {
            const created = unwrap(await api.POST('/api/v1/accounts', { body }));
            toast.success(`Created ${created.username}.`);
            await queryClient.invalidateQueries({ queryKey: accountKeys.all });
            router.push(`/accounts/${created.id}`);
          }}
        />
      </Card>
    </>
  );
}
