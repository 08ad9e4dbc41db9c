'use client';

import { Suspense } from 'react';
import { AuditList } from '../../../features/audit/audit-list';

export default function AuditPage() {
  return (
    <Suspense>
      <AuditList />
    </Suspense>
  );
}
