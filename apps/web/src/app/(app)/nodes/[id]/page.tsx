'use client';

import { useParams } from 'next/navigation';
import { NodeDetail } from '../../../../features/nodes/node-detail';

export default function NodePage() {
  const { id } = useParams<{ id: string }>();
  return <NodeDetail key={id} id={id} />;
}
