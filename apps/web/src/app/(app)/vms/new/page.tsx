'use client';

import { NewVm } from '../../../../features/vms/new-vm';

export default function NewVmPage() {
  return <NewVm />;
}
