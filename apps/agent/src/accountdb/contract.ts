/**
 * The agent API's bodies as TypeScript types, mirroring apps/api/src/modules/agent/schemas.ts
 * (the agent is bundled on its own and does not import the API). The limits are the schema's:
 * a value over them would make the server refuse the whole sync, so `sync/build.ts` clamps.
 */

import type { GuestState } from '../pve/guest-state.js';

export interface AgentConfig {
  node_id: string;
  name: string;
  sync_mode: 'all' | 'whitelist';
  whitelist: number[];
  interval_s: number;
  /** A pending "Sync now" from AccountDB (null: none). */
  sync_requested_at: string | null;
}

export type SyncStatus = GuestState;

export interface SyncVm {
  vmid: number;
  type: 'qemu' | 'lxc';
  name?: string | null;
  status: SyncStatus;
  template?: boolean;
  lock?: string | null;
  cpu_cores?: number | null;
  memory_mb?: number | null;
  disk_gb?: number | null;
  cpu_usage?: number | null;
  mem_usage?: number | null;
  uptime_s?: number | null;
  ip_addresses?: string[];
  mac_addresses?: string[];
  smbios_uuid?: string | null;
  tags?: string[];
  description?: string | null;
}

export interface SyncBody {
  cycle_id: string;
  observed_at: string;
  agent_version: string;
  pve_version?: string;
  complete: boolean;
  vms: SyncVm[];
  /** The config's sync_requested_at this cycle serves; AccountDB clears the request. */
  sync_request?: string;
  /** How long the cycle took to read Proxmox and build the body. */
  duration_ms?: number;
}

export interface SyncResult {
  created: number;
  updated: number;
  unchanged: number;
  absent: number;
  returned: number;
  ignored: number;
  stale: boolean;
}

export interface HeartbeatBody {
  status: 'ok' | 'error';
  error?: string;
  agent_version: string;
  pve_version?: string;
}

export const LIMITS = {
  name: 200,
  lock: 50,
  cpuCores: 100_000,
  memoryMb: 1e12,
  diskGb: 1e12,
  cpuUsage: 1e6,
  memUsage: 1e15,
  uptime: 1e12,
  ips: 100,
  ipLength: 64,
  macs: 64,
  tags: 50,
  tagLength: 64,
  description: 8192,
  error: 2000,
  version: 50,
} as const;
