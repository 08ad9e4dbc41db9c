'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { toast } from 'sonner';
import { Card, PageHeader } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { CardForm } from './card-form';
import { cardKeys } from './queries';

export function NewCard() {
  const router = useRouter();
  const queryClient = useQueryClient();
  return (
    <>
      <PageHeader title="New card" />
      <Card>
        <CardForm
          submitLabel="Create card"
          onCancel={() => router.push('/cards')}
          onSubmit={async (body) => {
            const created = unwrap(await api.POST('/api/v1/cards', { body }));
            toast.success('Created.');
            await queryClient.invalidateQueries({ queryKey: cardKeys.all });
            router.push(`/cards/${created.id}`);
          }}
        />
      </Card>
    </>
  );
}
