import { SimInputError } from '../errors.js';
import type { GuestPatch } from '../state/guest-patch.js';
import type { NewGuest } from '../state/sim-state.js';
import { camelFields, knownFields, vmidParam } from './body.js';
import type { ControlReply, ControlRequest } from './control-request.js';

const PATCH_FIELDS = [
  'status',
  'qmpstatus',
  'name',
  'tags',
  'memory',
  'cores',
  'sockets',
  'description',
  'lock',
  'template',
  'agent',
  'onboot',
  'node',
  'hastate',
  'pool',
  'guest_agent',
  'config',
] as const;

const NEW_FIELDS = [...PATCH_FIELDS, 'vmid', 'type', 'name_delay_ms'] as const;

/** GET /_sim/vms */
export function listVms(req: ControlRequest): ControlReply {
  return { status: 200, body: Array.from(req.state.guests(), (g) => req.state.summary(g)) };
}

/** GET /_sim/vms/{vmid}: the summary plus the raw config. */
export function getVm(req: ControlRequest): ControlReply {
  const guest = req.state.guest(vmidParam(req.params.vmid));
  if (!guest) throw new SimInputError(404, `no guest ${req.params.vmid}`);
  return { status: 200, body: req.state.summary(guest, true) };
}

/** POST /_sim/vms */
export function createVm(req: ControlRequest): ControlReply {
  const spec = camelFields(knownFields(req.body, NEW_FIELDS)) as NewGuest;
  return { status: 201, body: req.state.summary(req.state.addGuest(spec), true) };
}

/** PATCH /_sim/vms/{vmid} */
export function patchVm(req: ControlRequest): ControlReply {
  const patch = camelFields(knownFields(req.body, PATCH_FIELDS)) as GuestPatch;
  const guest = req.state.patchGuest(vmidParam(req.params.vmid), patch);
  return { status: 200, body: req.state.summary(guest, true) };
}

/** DELETE /_sim/vms/{vmid} */
export function deleteVm(req: ControlRequest): ControlReply {
  const vmid = vmidParam(req.params.vmid);
  if (!req.state.removeGuest(vmid)) throw new SimInputError(404, `no guest ${vmid}`);
  return { status: 204 };
}

/** POST /_sim/vms/{vmid}/reuse: delete and recreate under the same VMID. */
export function reuseVm(req: ControlRequest): ControlReply {
  const fields = knownFields(
    req.body,
    NEW_FIELDS.filter((f) => f !== 'vmid'),
  );
  const guest = req.state.reuseVmid(vmidParam(req.params.vmid), camelFields(fields) as NewGuest);
  return { status: 201, body: req.state.summary(guest, true) };
}
