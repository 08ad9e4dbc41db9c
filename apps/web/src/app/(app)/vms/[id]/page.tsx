'use client';

import { useParams } from 'next/navigation';
import { VmDetail } from '../../../../features/vms/vm-detail';

export default function VmPage() {
  const { id } = useParams<{ id: string }>();
  return <VmDetail key={id} id={id} />;
}
