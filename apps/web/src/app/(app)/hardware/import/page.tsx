'use client';

import { HardwareImport } from '../../../../features/hardware/hardware-import';

export default function ImportHardwarePage() {
  return <HardwareImport />;
}
