/**
 * The guest states AccountDB records, and how each Proxmox answer maps onto them. The list is
 * the API's (apps/api/src/modules/vms/vm-status.ts; the agent is bundled on its own and does
 * not import the API); docs/agent.md, "Guest states", is the table users read.
 *
 * What Proxmox says (qemu-server `vmstatus`, pve-manager pvestatd): `status` of a QEMU guest
 * is only `running` or `stopped` on `/nodes/{node}/qemu` and `…/status/current`; the run state
 * is `qmpstatus`, QEMU's `query-status` RunState. `/cluster/resources` carries
 * `qmpstatus || status`, so there `status` is any RunState for a running QEMU guest. LXC
 * guests are `running` or `stopped`. An offline node's entries say `unknown`.
 */
export const GUEST_STATES = [
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

export type GuestState = (typeof GUEST_STATES)[number];

/** QEMU RunState (qapi/run-state.json) or Proxmox status → AccountDB state. */
const FROM_PROXMOX: Readonly<Record<string, GuestState>> = {
  running: 'running',
  stopped: 'stopped',
  // The guest shut down; QEMU exits right after (or waits only with -no-shutdown).
  shutdown: 'stopped',
  paused: 'paused',
  // Paused while QEMU saves or restores the VM state (snapshot with RAM, hibernate, resume).
  'save-vm': 'paused',
  'restore-vm': 'paused',
  debug: 'paused',
  colo: 'paused',
  // ACPI S3 sleep.
  suspended: 'suspended',
  'io-error': 'io-error',
  inmigrate: 'migrating',
  postmigrate: 'migrating',
  'finish-migrate': 'migrating',
  prelaunch: 'prelaunch',
  'internal-error': 'internal-error',
  'guest-panicked': 'internal-error',
  // The watchdog fired and its action paused the guest: the guest hung.
  watchdog: 'internal-error',
  unknown: 'unknown',
};

/**
 * The AccountDB state of a guest from its Proxmox `status` (or `qmpstatus`) and `lock`.
 * Hibernated (suspended to disk) is `stopped` with lock `suspended`; anything unrecognised
 * is `unknown`.
 */
export function guestState(status: unknown, lock?: string): GuestState {
  const s = typeof status === 'string' ? status.trim().toLowerCase() : '';
  const state = Object.hasOwn(FROM_PROXMOX, s) ? (FROM_PROXMOX[s] as GuestState) : 'unknown';
  if (state === 'stopped' && lock === 'suspended') return 'suspended';
  return state;
}
