import type { components } from '../../api/schema';

type VmStatus = components['schemas']['Vm']['status'];

/**
 * What each VM state means, shown as the badge's tooltip. Typed against the API's schema, so a
 * state added there fails the type check here until it is described. The mapping from
 * Proxmox is documented in docs/agent.md, "Guest states".
 */
export const VM_STATUS_HINTS: Record<VmStatus, string> = {
  running: 'Running',
  stopped: 'Stopped',
  paused: 'Paused: the guest does not run until it is resumed',
  suspended: 'Suspended: asleep (ACPI S3) or hibernated to disk',
  'io-error': 'Paused by QEMU after a disk I/O error',
  migrating: 'Being migrated to another node',
  prelaunch: 'Started, but the guest has not begun to run',
  'internal-error': 'Halted: QEMU internal error, guest panic or watchdog',
  unknown: 'Unknown: the node does not know (e.g. it is offline)',
};

/** Every state, in the order the filters and forms list them. */
export const VM_STATUSES = [
  'running',
  'stopped',
  'paused',
  'suspended',
  'io-error',
  'migrating',
  'prelaunch',
  'internal-error',
  'unknown',
] as const satisfies readonly VmStatus[];

export function isVmStatus(value: string): value is VmStatus {
  return Object.hasOwn(VM_STATUS_HINTS, value);
}
