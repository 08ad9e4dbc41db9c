import { PveError } from '../errors.js';
import { qgaInterfaces } from '../guest-agent/qga-interfaces.js';
import { sleep } from '../http/request-utils.js';
import type { SimGuest } from '../model.js';
import { configForApi } from '../views/guest-config.js';
import { guestExecutes, qemuCurrentStatus, qemuListEntry } from '../views/guest-status.js';
import type { ApiRequest } from './api-request.js';
import { booleanQuery, requireGuest, requireNode } from './params.js';

export function guestsOfType(req: ApiRequest, node: string, type: SimGuest['type']): SimGuest[] {
  if (req.state.faults.settings.empty) return [];
  const out: SimGuest[] = [];
  for (const guest of req.state.guestsOn(node)) if (guest.type === type) out.push(guest);
  return out.sort((a, b) => a.vmid - b.vmid);
}

/** GET /nodes/{node}/qemu[?full=1] */
export function getQemuList(req: ApiRequest): unknown {
  const node = requireNode(req);
  const full = booleanQuery(req, 'full') ?? false;
  return guestsOfType(req, node.name, 'qemu').map((g) => qemuListEntry(g, req.now, full));
}

/** GET /nodes/{node}/qemu/{vmid}/status/current */
export function getQemuStatus(req: ApiRequest): unknown {
  return qemuCurrentStatus(requireGuest(req, 'qemu'), req.now);
}

/** GET /nodes/{node}/qemu/{vmid}/config */
export function getQemuConfig(req: ApiRequest): unknown {
  const guest = requireGuest(req, 'qemu');
  return configForApi(guest, req.state.digest(guest), req.state.version);
}

/**
 * GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces, with the checks and errors of
 * qemu-server: agent configured, VM running, agent answering (after a delay), no timeout.
 */
export async function getAgentInterfaces(req: ApiRequest): Promise<unknown> {
  const guest = requireGuest(req, 'qemu');
  const { timing, faults } = req.state;
  if (!guest.derived.agentEnabled) throw new PveError(500, 'No QEMU guest agent configured');
  if (guest.status === 'stopped') throw new PveError(500, `VM ${guest.vmid} is not running`);
  const timeout = `VM ${guest.vmid} qmp command 'guest-network-get-interfaces' failed - got timeout`;
  if (faults.settings.guestAgentTimeout) {
    await sleep(timing.agentTimeoutMs, req.signal);
    throw new PveError(500, timeout);
  }
  // A guest whose vCPUs do not run (paused, io-error, prelaunch, …) cannot answer either.
  if (!guestExecutes(guest) || guest.agentMode === 'not-running') {
    await sleep(timing.agentNotRunningMs, req.signal);
    throw new PveError(500, 'QEMU guest agent is not running');
  }
  if (guest.agentMode === 'timeout') {
    await sleep(timing.agentTimeoutMs, req.signal);
    throw new PveError(500, timeout);
  }
  return { result: qgaInterfaces(guest) };
}
