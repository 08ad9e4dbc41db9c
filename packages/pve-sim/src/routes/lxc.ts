import { lxcInterfaces } from '../guest-agent/lxc-interfaces.js';
import { configForApi } from '../views/guest-config.js';
import { lxcCurrentStatus, lxcListEntry } from '../views/guest-status.js';
import type { ApiRequest } from './api-request.js';
import { requireGuest, requireNode } from './params.js';
import { guestsOfType } from './qemu.js';

/** GET /nodes/{node}/lxc */
export function getLxcList(req: ApiRequest): unknown {
  const node = requireNode(req);
  return guestsOfType(req, node.name, 'lxc').map((g) =>
    lxcListEntry(g, req.now, req.state.version),
  );
}

/** GET /nodes/{node}/lxc/{vmid}/status/current */
export function getLxcStatus(req: ApiRequest): unknown {
  return lxcCurrentStatus(requireGuest(req, 'lxc'), req.now);
}

/** GET /nodes/{node}/lxc/{vmid}/config */
export function getLxcConfig(req: ApiRequest): unknown {
  const guest = requireGuest(req, 'lxc');
  return configForApi(guest, req.state.digest(guest), req.state.version);
}

/** GET /nodes/{node}/lxc/{vmid}/interfaces: `null` while the container is stopped. */
export function getLxcInterfaces(req: ApiRequest): unknown {
  const guest = requireGuest(req, 'lxc');
  if (guest.status === 'stopped') return null;
  return lxcInterfaces(guest, req.state.version.features);
}
