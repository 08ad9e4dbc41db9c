import { lxcNics, qemuNics } from '../config/nics.js';
import type { GuestStatus, GuestType, SimGuest } from '../model.js';
import { qmpStatus } from '../views/guest-status.js';

/** A guest as the control API (`/_sim/vms`) shows it. */
export interface GuestSummary {
  vmid: number;
  type: GuestType;
  node: string;
  name: string | null;
  status: GuestStatus;
  qmpstatus: string;
  template: boolean;
  lock: string | null;
  tags: string | null;
  hastate: string | null;
  pool: string | null;
  agent_enabled: boolean;
  guest_agent: string;
  edge_case: string | null;
  digest: string;
  smbios_uuid: string | null;
  macs: string[];
  config?: Record<string, string>;
}

export function guestSummary(guest: SimGuest, digest: string, withConfig: boolean): GuestSummary {
  const nics = guest.type === 'qemu' ? qemuNics(guest.config) : lxcNics(guest.config);
  const out: GuestSummary = {
    vmid: guest.vmid,
    type: guest.type,
    node: guest.node,
    name: guest.derived.name ?? null,
    status: guest.status,
    qmpstatus: qmpStatus(guest),
    template: guest.derived.template,
    lock: guest.config.lock ?? null,
    tags: guest.config.tags ?? null,
    hastate: guest.hastate ?? null,
    pool: guest.pool ?? null,
    agent_enabled: guest.derived.agentEnabled,
    guest_agent: guest.agentMode,
    edge_case: guest.edgeCase ?? null,
    digest,
    smbios_uuid: /(?:^|,)uuid=([^,]+)/.exec(guest.config.smbios1 ?? '')?.[1] ?? null,
    macs: nics.map((n) => n.mac),
  };
  if (withConfig) out.config = { ...guest.config };
  return out;
}
