import type { SimGuest } from './model.js';

/**
 * `qmpstatus` as qemu-server's `vmstatus` gives it: the RunState from QMP `query-status` for a
 * running QEMU guest, else the `status` (`stopped`; also for a hibernated guest, whose saved
 * state shows only in `lock: suspended`).
 */
export function qmpStatus(guest: SimGuest): string {
  if (guest.status === 'stopped' || guest.type !== 'qemu') return guest.status;
  return guest.qmpstatus ?? 'running';
}

/** Whether the guest's vCPUs run: a running guest in any other QMP state does nothing. */
export function guestExecutes(guest: SimGuest): boolean {
  return qmpStatus(guest) === 'running';
}
