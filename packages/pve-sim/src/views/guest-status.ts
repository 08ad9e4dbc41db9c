import type { SimGuest } from '../model.js';
import { qmpStatus } from '../run-state.js';
import { guestRuntime } from '../runtime-stats.js';
import type { PveVersion } from '../version.js';

export { guestExecutes, qmpStatus } from '../run-state.js';

export const QEMU_VERSION = '9.2.0';
export const QEMU_MACHINE = 'pc-i440fx-9.2+pve1';

/** `name` as the lists show it: the configured name, else `VM <id>` / `CT<id>`. */
export function displayName(guest: SimGuest): string {
  return guest.derived.name ?? (guest.type === 'qemu' ? `VM ${guest.vmid}` : `CT${guest.vmid}`);
}

function haStatus(guest: SimGuest): Record<string, unknown> {
  return guest.hastate ? { managed: 1, state: guest.hastate } : { managed: 0 };
}

/** The fields qemu/lxc lists and status/current share. */
function commonFields(guest: SimGuest, now: number): Record<string, unknown> {
  const rt = guestRuntime(guest, now);
  const out: Record<string, unknown> = {
    vmid: guest.vmid,
    name: displayName(guest),
    status: guest.status,
    cpus: guest.derived.maxcpu,
    cpu: rt.cpu,
    maxmem: guest.derived.maxmem,
    mem: rt.mem,
    maxdisk: guest.derived.maxdisk,
    disk: rt.disk,
    netin: rt.netin,
    netout: rt.netout,
    diskread: rt.diskread,
    diskwrite: rt.diskwrite,
    uptime: rt.uptime,
  };
  if (rt.pid !== undefined) out.pid = rt.pid;
  if (guest.config.lock) out.lock = guest.config.lock;
  if (guest.config.tags) out.tags = guest.config.tags;
  if (guest.derived.template) out.template = 1;
  return out;
}

/** One entry of `/nodes/{node}/qemu` (`template` only when 1, `disk` always 0). */
export function qemuListEntry(
  guest: SimGuest,
  now: number,
  full: boolean,
): Record<string, unknown> {
  const out = commonFields(guest, now);
  if (full) {
    out.qmpstatus = qmpStatus(guest);
    if (guest.status !== 'stopped') {
      out['running-qemu'] = QEMU_VERSION;
      out['running-machine'] = QEMU_MACHINE;
    }
  }
  return out;
}

/** One entry of `/nodes/{node}/lxc`; `vmid` a string on old versions for some guests. */
export function lxcListEntry(
  guest: SimGuest,
  now: number,
  version: PveVersion,
): Record<string, unknown> {
  const rt = guestRuntime(guest, now);
  const out = commonFields(guest, now);
  out.type = 'lxc';
  out.maxswap = guest.derived.maxswap;
  out.swap = rt.swap;
  if (version.features.lxcVmidString && guest.quirks.vmidString) out.vmid = String(guest.vmid);
  return out;
}

/** `/nodes/{node}/qemu/{vmid}/status/current`. */
export function qemuCurrentStatus(guest: SimGuest, now: number): Record<string, unknown> {
  const out = commonFields(guest, now);
  out.qmpstatus = qmpStatus(guest);
  out.ha = haStatus(guest);
  if (guest.derived.agentEnabled) out.agent = 1;
  if (guest.status !== 'stopped') {
    out['running-qemu'] = QEMU_VERSION;
    out['running-machine'] = QEMU_MACHINE;
    out['proxmox-support'] = { 'pbs-dirty-bitmap': true, 'query-bitmap-info': true };
    out.balloon = guest.derived.maxmem;
    out.freemem = Math.max(0, guest.derived.maxmem - Number(out.mem));
  }
  return out;
}

/** `/nodes/{node}/lxc/{vmid}/status/current`. */
export function lxcCurrentStatus(guest: SimGuest, now: number): Record<string, unknown> {
  const rt = guestRuntime(guest, now);
  const out = commonFields(guest, now);
  out.type = 'lxc';
  out.maxswap = guest.derived.maxswap;
  out.swap = rt.swap;
  out.ha = haStatus(guest);
  return out;
}
