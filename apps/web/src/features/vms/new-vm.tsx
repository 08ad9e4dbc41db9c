'use client';

import { useQueryClient } from '@tanstack/react-query';
import { useRouter } from 'next/navigation';
import { toast } from 'sonner';
import { Card, PageHeader } from '../../components/ui';
import { api, unwrap } from '../../lib/api';
import { vmKeys } from './queries';
import { VmForm } from './vm-form';

export function NewVm() {
  const router = useRouter();
  const queryClient = useQueryClient();
  return (
    <>
      <PageHeader
        title="New VM"
        description="A VM entered by hand. VMs of nodes with an agent appear by themselves."
      />
      <Card>
        <VmForm
          submitLabel="Create VM"
          onCancel={() => router.push('/vms')}
          onSubmit={async (body) => {
            const created = unwrap(await api.POST('/api/v1/vms', { body }));
            toast.success('Created.');
            await queryClient.invalidateQueries({ queryKey: vmKeys.all });
            router.push(`/vms/${created.id}`);
          }}
        />
      </Card>
    </>
  );
}
