import { StatusBadge } from '../../components/ui';
import { isVmStatus, VM_STATUS_HINTS } from './vm-states';

/** A VM state's badge: its own colour, and what it means on hover. */
export function VmStatusBadge({ status }: { status: string }) {
  return (
    <StatusBadge status={status} title={isVmStatus(status) ? VM_STATUS_HINTS[status] : undefined} />
  );
}
