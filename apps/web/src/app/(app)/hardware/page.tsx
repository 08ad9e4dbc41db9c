'use client';

import { Suspense } from 'react';
import { HardwareList } from '../../../features/hardware/hardware-list';

export default function HardwarePage() {
  return (
    <Suspense>
      <HardwareList />
    </Suspense>
  );
}
