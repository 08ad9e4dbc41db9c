import { type JsonNumber, PerlFloat } from './http/perl-json.js';
import type { SimGuest } from './model.js';
import { hash32, hashUnit } from './prng.js';
import { guestExecutes } from './run-state.js';

/** Proxmox refreshes guest statistics every 10 s; the jitter changes on the same beat. */
export const REFRESH_MS = 10_000;

export interface GuestRuntime {
  uptime: number;
  cpu: number;
  mem: number;
  disk: number;
  swap: number;
  netin: JsonNumber;
  netout: JsonNumber;
  diskread: JsonNumber;
  diskwrite: JsonNumber;
  pid: number | undefined;
}

/** Counters of long-running busy guests (sciCounters) start here: 3.4e+15. */
const SCI_BASE = 3.4e15;

function counter(guest: SimGuest, bytes: number, share: number): JsonNumber {
  if (!guest.quirks.sciCounters) return Math.floor(bytes * share);
  return new PerlFloat(SCI_BASE * share + Math.floor(bytes * share));
}

/**
 * Live statistics of a guest at `now`: a pure function of the guest and the time, so the
 * same moment always gives the same numbers (stale snapshots are computed the same way).
 */
export function guestRuntime(guest: SimGuest, now: number): GuestRuntime {
  if (guest.status === 'stopped') {
    return {
      uptime: 0,
      cpu: 0,
      mem: 0,
      disk: 0,
      swap: 0,
      netin: 0,
      netout: 0,
      diskread: 0,
      diskwrite: 0,
      pid: undefined,
    };
  }
  const jitter = hashUnit(guest.vmid, Math.floor(now / REFRESH_MS));
  const uptime = Math.max(0, Math.floor((now - guest.startedAt) / 1000));
  const { load, derived } = guest;
  const cpu = !guestExecutes(guest) ? 0 : Math.min(1, load.cpu * (0.6 + 0.8 * jitter));
  const memShare = Math.min(0.98, Math.max(0.02, load.mem + (jitter - 0.5) * 0.06));
  const net = load.netRate * uptime;
  const io = load.ioRate * uptime;
  return {
    uptime,
    cpu: Math.round(cpu * 1e6) / 1e6,
    mem: Math.floor(derived.maxmem * memShare),
    disk: guest.type === 'lxc' ? Math.floor(derived.maxdisk * load.disk) : 0,
    swap: guest.type === 'lxc' ? Math.floor(derived.maxswap * load.disk * 0.1) : 0,
    netin: counter(guest, net, 1),
    netout: counter(guest, net, 0.35),
    diskread: counter(guest, io, 1),
    diskwrite: counter(guest, io, 0.6),
    pid: 1000 + (hash32(guest.vmid, guest.startedAt) % 4_000_000),
  };
}
