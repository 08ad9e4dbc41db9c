import type { SimGuest } from '../model.js';
import { guestRuntime } from '../runtime-stats.js';
import { displayName, qmpStatus } from './guest-status.js';

/**
 * A `/cluster/resources` guest entry at `now` (no `name` until the new guest is known). Its
 * `status` is what pvestatd publishes: `qmpstatus || status` (pve-manager
 * PVE/Service/pvestatd.pm, update_qemu_status), so any QEMU run state for a QEMU guest.
 */
export function vmResourceEntry(guest: SimGuest, now: number): Record<string, unknown> {
  const rt = guestRuntime(guest, now);
  const out: Record<string, unknown> = {
    id: `${guest.type}/${guest.vmid}`,
    vmid: guest.vmid,
    node: guest.node,
    type: guest.type,
    status: qmpStatus(guest),
  };
  if (now >= guest.nameVisibleAt) out.name = displayName(guest);
  out.template = guest.derived.template ? 1 : 0;
  out.maxcpu = guest.derived.maxcpu;
  out.cpu = rt.cpu;
  out.maxmem = guest.derived.maxmem;
  out.mem = rt.mem;
  out.maxdisk = guest.derived.maxdisk;
  out.disk = rt.disk;
  out.netin = rt.netin;
  out.netout = rt.netout;
  out.diskread = rt.diskread;
  out.diskwrite = rt.diskwrite;
  out.uptime = rt.uptime;
  if (guest.config.lock) out.lock = guest.config.lock;
  if (guest.config.tags) out.tags = guest.config.tags;
  if (guest.pool) out.pool = guest.pool;
  if (guest.hastate) out.hastate = guest.hastate;
  return out;
}

/** What an offline node's guests become once their statistics expired. */
export function unknownResourceEntry(guest: SimGuest): Record<string, unknown> {
  return {
    id: `${guest.type}/${guest.vmid}`,
    vmid: guest.vmid,
    node: guest.node,
    type: guest.type,
    status: 'unknown',
  };
}
