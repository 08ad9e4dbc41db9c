'use client';

import { Suspense } from 'react';
import { NodeList } from '../../../features/nodes/node-list';

export default function NodesPage() {
  return (
    <Suspense>
      <NodeList />
    </Suspense>
  );
}
