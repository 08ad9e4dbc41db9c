'use client';

import { Suspense } from 'react';
import { VmList } from '../../../features/vms/vm-list';

export default function VmsPage() {
  return (
    <Suspense>
      <VmList />
    </Suspense>
  );
}
