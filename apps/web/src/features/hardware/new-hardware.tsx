'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { toast } from 'sonner';
import { Card, PageHeader } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { HardwareForm } from './hardware-form';
import { hardwareKeys } from './queries';

export function NewHardware() {
  const router = useRouter();
  const queryClient = useQueryClient();
  return (
    <>
      <PageHeader title="New hardware" />
      <Card>
        <HardwareForm
          submitLabel="Create hardware profile"
          onCancel={() => router.push('/hardware')}
          onSubmit={async (body) => {
            const created = unwrap(await api.POST('/api/v1/hardware', { body }));
            toast.success('Created.');
            await queryClient.invalidateQueries({ queryKey: hardwareKeys.all });
            router.push(`/hardware/${created.id}`);
          }}
        />
      </Card>
    </>
  );
}
