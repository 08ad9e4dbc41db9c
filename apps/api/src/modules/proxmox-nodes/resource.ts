import { sql } from 'drizzle-orm';
import { type Static, Type } from 'typebox';
import { proxmoxNodes } from '../../db/schema.js';
import { iso, normalizeTags } from '../../http/resource/fields.js';
import type { ResourceSpec, ResourceTable } from '../../http/resource/spec.js';
import { agentConfig } from './agent-config.js';
import { newNodeKey } from './node-keys.js';
import { effectiveNodeStatus, effectiveNodeStatusSql } from './node-status.js';
import { CreateNode, NodeStatus, ProxmoxNode, UpdateNode } from './schemas.js';

type Row = typeof proxmoxNodes.$inferSelect;
type Dto = Static<typeof ProxmoxNode>;
type Create = Static<typeof CreateNode>;
type Update = Static<typeof UpdateNode>;

export function toNodeDto(row: Row): Dto {
  return {
    id: row.id,
    owner_id: row.ownerId,
    name: row.name,
    hostname: row.hostname,
    port: row.port,
    cluster: row.cluster,
    status: effectiveNodeStatus(row),
    last_seen_at: iso(row.lastSeenAt),
    last_sync_at: iso(row.lastSyncAt),
    last_sync_stats: row.lastSyncStats ?? null,
    sync_requested_at: iso(row.syncRequestedAt),
    last_error: row.lastError,
    agent_version: row.agentVersion,
    pve_version: row.pveVersion,
    api_key_prefix: row.apiKeyPrefix,
    api_key_rotated_at: iso(row.apiKeyRotatedAt),
    sync_mode: row.syncMode,
    sync_interval_s: row.syncIntervalS,
    whitelist: row.whitelist,
    skipped_vmids: row.skippedVmids,
    tags: row.tags,
    notes: row.notes,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

export const uniqueVmids = (vmids: number[]) => [...new Set(vmids)].sort((a, b) => a - b);

function values(body: Partial<Create>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (body.name !== undefined) out.name = body.name.trim();
  if (body.hostname !== undefined) out.hostname = body.hostname?.trim() || null;
  if (body.port !== undefined) out.port = body.port;
  if (body.cluster !== undefined) out.cluster = body.cluster?.trim() || null;
  if (body.sync_mode !== undefined) out.syncMode = body.sync_mode;
  if (body.sync_interval_s !== undefined) out.syncIntervalS = body.sync_interval_s;
  if (body.whitelist !== undefined) out.whitelist = uniqueVmids(body.whitelist);
  if (body.tags !== undefined) out.tags = normalizeTags(body.tags);
  if (body.notes !== undefined) out.notes = body.notes;
  return out;
}

export const nodeSpec: ResourceSpec<Row, Dto, Create, Update> = {
  path: 'proxmox-nodes',
  entity: 'proxmox_node',
  holdsCredential: true,
  label: 'Proxmox node',
  table: proxmoxNodes as unknown as ResourceTable,
  dto: ProxmoxNode,
  createBody: CreateNode,
  updateBody: UpdateNode,
  description:
    'Proxmox VE nodes. Creating one answers its agent key (adb_node_…) once, with a ready-to-paste agent configuration.',
  sort: {
    created_at: { expr: proxmoxNodes.createdAt, type: 'timestamptz' },
    name: { expr: sql`lower(${proxmoxNodes.name})`, type: 'text' },
    status: { expr: effectiveNodeStatusSql, type: 'text' },
    last_seen_at: {
      expr: sql`coalesce(${proxmoxNodes.lastSeenAt}, '-infinity'::timestamptz)`,
      type: 'timestamptz',
    },
  },
  defaultSort: 'name',
  filters: {
    status: { schema: NodeStatus, where: (v: string) => sql`${effectiveNodeStatusSql} = ${v}` },
    cluster: {
      schema: Type.String({ maxLength: 100 }),
      where: (v: string) => sql`${proxmoxNodes.cluster} = ${v}`,
    },
  },
  search: 'search_proxmox_nodes',
  share: 'proxmox_node',
  uniques: { proxmox_nodes_owner_name_key: 'name' },
  toDto: toNodeDto,
  toInsert: async (body, ctx) => {
    const key = newNodeKey();
    ctx.respond = {
      api_key: key.key,
      agent_config: agentConfig({
        request: ctx.request,
        nodeName: body.name.trim(),
        key: key.key,
        intervalS: body.sync_interval_s ?? 60,
      }),
    };
    return { ...values(body), apiKeyPrefix: key.prefix, apiKeyHash: key.hash };
  },
  toUpdate: async (body) => values(body),
  csv: [
    { header: 'id', value: (d) => d.id },
    { header: 'name', value: (d) => d.name },
    { header: 'hostname', value: (d) => d.hostname },
    { header: 'port', value: (d) => d.port },
    { header: 'cluster', value: (d) => d.cluster },
    { header: 'status', value: (d) => d.status },
    { header: 'last_seen_at', value: (d) => d.last_seen_at },
    { header: 'last_sync_at', value: (d) => d.last_sync_at },
    { header: 'agent_version', value: (d) => d.agent_version },
    { header: 'pve_version', value: (d) => d.pve_version },
    { header: 'sync_mode', value: (d) => d.sync_mode },
    { header: 'whitelist', value: (d) => d.whitelist },
    { header: 'tags', value: (d) => d.tags },
  ],
};
