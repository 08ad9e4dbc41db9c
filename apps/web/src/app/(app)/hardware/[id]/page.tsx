'use client';

import { useParams } from 'next/navigation';
import { HardwareDetail } from '../../../../features/hardware/hardware-detail';

export default function HardwareProfilePage() {
  const { id } = useParams<{ id: string }>();
  return <HardwareDetail key={id} id={id} />;
}
