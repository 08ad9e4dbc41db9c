import { parseBoolean } from '../config/property-string.js';
import { PveError, parameterError } from '../errors.js';
import type { GuestType, SimGuest, SimNode } from '../model.js';
import type { ApiRequest } from './api-request.js';

const NODE_NAME = /^[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?$/;

function checkNodeName(name: string): void {
  if (!NODE_NAME.test(name)) {
    throw parameterError({ node: 'invalid format - value does not look like a valid node name' });
  }
}

function checkVmid(raw: string): number {
  if (!/^\d+$/.test(raw))
    throw parameterError({ vmid: `type check ('integer') failed - got '${raw}'` });
  const vmid = Number(raw);
  if (vmid < 100) throw parameterError({ vmid: 'value must have a minimum value of 100' });
  if (vmid > 999_999_999)
    throw parameterError({ vmid: 'value must have a maximum value of 999999999' });
  return vmid;
}

/** The node of the path: 500 when unknown, 595 when offline (the proxy cannot reach it). */
function reachableNode(req: ApiRequest, name: string): SimNode {
  const node = req.state.node(name);
  if (!node) {
    throw new PveError(
      500,
      `hostname lookup '${name}' failed - failed to get address info for: ${name}: Name or service not known`,
    );
  }
  if (!req.state.isOnline(name)) {
    throw new PveError(
      595,
      'Errors during connection establishment, proxy handshake: No route to host',
    );
  }
  return node;
}

export function requireNode(req: ApiRequest): SimNode {
  const name = req.params.node ?? '';
  checkNodeName(name);
  return reachableNode(req, name);
}

/** The guest of the path; 500 "does not exist" when it is not of that type on that node. */
export function requireGuest(req: ApiRequest, type: GuestType): SimGuest {
  const name = req.params.node ?? '';
  checkNodeName(name);
  const vmid = checkVmid(req.params.vmid ?? '');
  const node = reachableNode(req, name);
  const guest = req.state.guest(vmid);
  if (!guest || guest.type !== type || guest.node !== node.name) {
    const dir = type === 'qemu' ? 'qemu-server' : 'lxc';
    throw new PveError(
      500,
      `Configuration file 'nodes/${node.name}/${dir}/${vmid}.conf' does not exist`,
    );
  }
  return guest;
}

export function booleanQuery(req: ApiRequest, name: string): boolean | undefined {
  const raw = req.query.get(name);
  if (raw === null) return undefined;
  const value = parseBoolean(raw);
  if (value === undefined)
    throw parameterError({ [name]: `type check ('boolean') failed - got '${raw}'` });
  return value;
}

export function enumQuery<T extends string>(
  req: ApiRequest,
  name: string,
  allowed: readonly T[],
): T | undefined {
  const raw = req.query.get(name);
  if (raw === null) return undefined;
  if (!allowed.includes(raw as T)) {
    throw parameterError({
      [name]: `value '${raw}' does not have a value in the enumeration '${allowed.join(', ')}'`,
    });
  }
  return raw as T;
}
