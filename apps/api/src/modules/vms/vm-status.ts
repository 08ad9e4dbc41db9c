import { Type } from 'typebox';

/**
 * Every state AccountDB records for a VM, in display order. How each Proxmox answer maps onto
 * these is documented once, in docs/agent.md ("Guest states"); the agent does the mapping
 * (apps/agent/src/pve/guest-state.ts). Migration 0011_vm_states.sql holds the same list.
 */
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
] as const;

export type VmStatusValue = (typeof VM_STATUSES)[number];

export const VmStatus = Type.Enum(VM_STATUSES, {
  description:
    'The guest state as Proxmox reports it: running, stopped, paused, suspended (ACPI S3 or ' +
    'hibernated to disk), io-error (paused on a disk error), migrating, prelaunch (started ' +
    'but not yet run), internal-error (QEMU internal error, guest panic or watchdog), ' +
    'unknown (the node does not know, e.g. offline). See docs/agent.md, "Guest states".',
});
