import type { ApiRoute } from './api-request.js';
import { getClusterResources, getClusterStatus, getVersion } from './cluster.js';
import { getLxcConfig, getLxcInterfaces, getLxcList, getLxcStatus } from './lxc.js';
import { getNodeStatus, getNodes } from './nodes.js';
import { getAgentInterfaces, getQemuConfig, getQemuList, getQemuStatus } from './qemu.js';

/** The Proxmox API endpoints the simulator serves (GET under /api2/json). */
export const API_ROUTES: readonly ApiRoute[] = [
  { pattern: '/version', kind: 'version', query: [], handler: getVersion },
  // Answered before authentication by http/ticket-route.ts (GET null, POST login).
  { pattern: '/access/ticket', kind: 'access-ticket', query: [], handler: () => null },
  { pattern: '/nodes', kind: 'nodes', query: [], handler: getNodes },
  { pattern: '/nodes/{node}/status', kind: 'node-status', query: [], handler: getNodeStatus },
  { pattern: '/cluster/status', kind: 'cluster-status', query: [], handler: getClusterStatus },
  {
    pattern: '/cluster/resources',
    kind: 'cluster-resources',
    query: ['type'],
    handler: getClusterResources,
  },
  { pattern: '/nodes/{node}/qemu', kind: 'qemu-list', query: ['full'], handler: getQemuList },
  {
    pattern: '/nodes/{node}/qemu/{vmid}/status/current',
    kind: 'qemu-status',
    query: [],
    handler: getQemuStatus,
  },
  {
    pattern: '/nodes/{node}/qemu/{vmid}/config',
    kind: 'qemu-config',
    query: ['current', 'snapshot'],
    handler: getQemuConfig,
  },
  {
    pattern: '/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces',
    kind: 'qemu-agent-interfaces',
    query: [],
    handler: getAgentInterfaces,
  },
  { pattern: '/nodes/{node}/lxc', kind: 'lxc-list', query: [], handler: getLxcList },
  {
    pattern: '/nodes/{node}/lxc/{vmid}/status/current',
    kind: 'lxc-status',
    query: [],
    handler: getLxcStatus,
  },
  {
    pattern: '/nodes/{node}/lxc/{vmid}/config',
    kind: 'lxc-config',
    query: ['current', 'snapshot'],
    handler: getLxcConfig,
  },
  {
    pattern: '/nodes/{node}/lxc/{vmid}/interfaces',
    kind: 'lxc-interfaces',
    query: [],
    since: [7, 1],
    handler: getLxcInterfaces,
  },
];

export const ENDPOINT_KINDS: readonly string[] = API_ROUTES.map((r) => r.kind);
