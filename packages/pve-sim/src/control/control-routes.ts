import type { ControlRoute } from './control-request.js';
import { clearFaults, getFaults, setFaults } from './faults.js';
import {
  driftStep,
  getDrift,
  getInfo,
  getStats,
  getTiming,
  getTls,
  resetStats,
  setDrift,
  setTiming,
} from './misc.js';
import { listSimNodes, setSimNode } from './nodes.js';
import { createVm, deleteVm, getVm, listVms, patchVm, reuseVm } from './vms.js';

/** The /_sim control API (no auth, loopback clients only). */
export const CONTROL_ROUTES: readonly ControlRoute[] = [
  { method: 'GET', pattern: '/_sim', handler: getInfo },
  { method: 'GET', pattern: '/_sim/stats', handler: getStats },
  { method: 'POST', pattern: '/_sim/stats/reset', handler: resetStats },
  { method: 'GET', pattern: '/_sim/vms', handler: listVms },
  { method: 'POST', pattern: '/_sim/vms', handler: createVm },
  { method: 'GET', pattern: '/_sim/vms/{vmid}', handler: getVm },
  { method: 'PATCH', pattern: '/_sim/vms/{vmid}', handler: patchVm },
  { method: 'DELETE', pattern: '/_sim/vms/{vmid}', handler: deleteVm },
  { method: 'POST', pattern: '/_sim/vms/{vmid}/reuse', handler: reuseVm },
  { method: 'GET', pattern: '/_sim/faults', handler: getFaults },
  { method: 'POST', pattern: '/_sim/faults', handler: setFaults },
  { method: 'DELETE', pattern: '/_sim/faults', handler: clearFaults },
  { method: 'GET', pattern: '/_sim/nodes', handler: listSimNodes },
  { method: 'POST', pattern: '/_sim/nodes/{node}', handler: setSimNode },
  { method: 'GET', pattern: '/_sim/drift', handler: getDrift },
  { method: 'POST', pattern: '/_sim/drift', handler: setDrift },
  { method: 'POST', pattern: '/_sim/drift/step', handler: driftStep },
  { method: 'GET', pattern: '/_sim/timing', handler: getTiming },
  { method: 'POST', pattern: '/_sim/timing', handler: setTiming },
  { method: 'GET', pattern: '/_sim/tls', handler: getTls },
];
