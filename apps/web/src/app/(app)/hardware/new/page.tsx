'use client';

import { NewHardware } from '../../../../features/hardware/new-hardware';

export default function NewHardwarePage() {
  return <NewHardware />;
}
