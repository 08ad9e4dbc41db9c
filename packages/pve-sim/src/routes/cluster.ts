import { clusterStatus, nodeResourceEntry, storageResourceEntries } from '../views/node-view.js';
import type { ApiRequest } from './api-request.js';
import { enumQuery } from './params.js';

const RESOURCE_TYPES = ['vm', 'storage', 'node', 'sdn'] as const;

/** GET /version */
export function getVersion(req: ApiRequest): unknown {
  const v = req.state.version;
  return { version: v.version, release: v.release, repoid: v.repoid, console: 'html5' };
}

/** GET /cluster/status */
export function getClusterStatus(req: ApiRequest): unknown {
  return clusterStatus(req.state);
}

/**
 * GET /cluster/resources[?type=vm]: every guest of the cluster in one call, answered from
 * the cluster filesystem (works with nodes down). The `empty` fault models a token that may
 * audit nothing: [] with 200.
 */
export function getClusterResources(req: ApiRequest): unknown {
  const type = enumQuery(req, 'type', RESOURCE_TYPES);
  const { state, now } = req;
  if (state.faults.settings.empty) return [];
  const out: Record<string, unknown>[] = [];
  if (!type || type === 'vm') out.push(...state.vmResources(now));
  if (!type || type === 'node')
    out.push(...state.nodes().map((n) => nodeResourceEntry(state, n, now)));
  if (!type || type === 'storage') {
    for (const node of state.nodes()) out.push(...storageResourceEntries(state, node));
  }
  return out;
}
