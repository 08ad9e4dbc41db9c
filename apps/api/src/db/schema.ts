import { sql } from 'drizzle-orm';
import {
  bigint,
  boolean,
  customType,
  doublePrecision,
  integer,
  jsonb,
  numeric,
  pgTable,
  primaryKey,
  smallint,
  text,
  timestamp,
  uuid,
} from 'drizzle-orm/pg-core';
import { VM_STATUSES } from '../modules/vms/vm-status.js';

/**
 * Drizzle's view of the tables. The tables themselves are made by the plain-SQL files in
 * migrations/; test/schema-drift.test.ts fails when the two disagree.
 */

const bytea = customType<{ data: Buffer; driverData: Buffer | Uint8Array }>({
  dataType: () => 'bytea',
  fromDriver: (v) => (Buffer.isBuffer(v) ? v : Buffer.from(v)),
});

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });
const id = () => uuid('id').primaryKey().default(sql`uuid_v7()`);

export const users = pgTable('users', {
  id: id(),
  username: text('username').notNull(),
  email: text('email').notNull(),
  passwordHash: text('password_hash').notNull(),
  role: text('role', { enum: ['admin', 'user'] })
    .notNull()
    .default('user'),
  isActive: boolean('is_active').notNull().default(true),
  failedLoginCount: integer('failed_login_count').notNull().default(0),
  lockedUntil: ts('locked_until'),
  lastLoginAt: ts('last_login_at'),
  passwordChangedAt: ts('password_changed_at').notNull().defaultNow(),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const loginLockouts = pgTable('login_lockouts', {
  loginKey: text('login_key').primaryKey(),
  failedLoginCount: integer('failed_login_count').notNull().default(0),
  lockedUntil: ts('locked_until'),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const refreshTokens = pgTable('refresh_tokens', {
  id: id(),
  ownerId: uuid('owner_id').notNull(),
  familyId: uuid('family_id').notNull(),
  tokenHash: bytea('token_hash').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
  expiresAt: ts('expires_at').notNull(),
  usedAt: ts('used_at'),
  replacedBy: uuid('replaced_by'),
  revokedAt: ts('revoked_at'),
  revokedReason: text('revoked_reason'),
  userAgent: text('user_agent'),
  ip: text('ip'),
});

export const apiTokens = pgTable('api_tokens', {
  id: id(),
  ownerId: uuid('owner_id').notNull(),
  name: text('name').notNull(),
  prefix: text('prefix').notNull(),
  tokenHash: bytea('token_hash').notNull(),
  scopes: text('scopes').array().notNull(),
  expiresAt: ts('expires_at'),
  lastUsedAt: ts('last_used_at'),
  lastUsedIp: text('last_used_ip'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const auditLog = pgTable('audit_log', {
  id: id(),
  ownerId: uuid('owner_id'),
  actorType: text('actor_type', {
    enum: ['user', 'token', 'node', 'system', 'anonymous'],
  }).notNull(),
  actorId: uuid('actor_id'),
  actorName: text('actor_name'),
  action: text('action').notNull(),
  entityType: text('entity_type'),
  entityId: text('entity_id'),
  at: ts('at').notNull().defaultNow(),
  ip: text('ip'),
  requestId: text('request_id'),
  details: jsonb('details').$type<Record<string, unknown>>().notNull().default({}),
});

export const dataKeys = pgTable('data_keys', {
  id: id(),
  ownerId: uuid('owner_id').notNull(),
  masterKid: text('master_kid').notNull(),
  wrappedKey: bytea('wrapped_key').notNull(),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

const tags = () => text('tags').array().notNull().default(sql`'{}'`);

export const proxmoxNodes = pgTable('proxmox_nodes', {
  id: id(),
  ownerId: uuid('owner_id').notNull(),
  name: text('name').notNull(),
  hostname: text('hostname'),
  port: integer('port').notNull().default(8006),
  cluster: text('cluster'),
  status: text('status', { enum: ['pending', 'online', 'stale', 'error', 'offline'] })
    .notNull()
    .default('pending'),
  lastSeenAt: ts('last_seen_at'),
  lastSyncAt: ts('last_sync_at'),
  lastSyncStats: jsonb('last_sync_stats').$type<Record<string, unknown>>(),
  lastError: text('last_error'),
  agentVersion: text('agent_version'),
  pveVersion: text('pve_version'),
  apiKeyPrefix: text('api_key_prefix').notNull(),
  apiKeyHash: bytea('api_key_hash').notNull(),
  apiKeyRotatedAt: ts('api_key_rotated_at'),
  syncMode: text('sync_mode', { enum: ['all', 'whitelist'] })
    .notNull()
    .default('all'),
  syncIntervalS: integer('sync_interval_s').notNull().default(60),
  whitelist: integer('whitelist').array().notNull().default(sql`'{}'`),
  skippedVmids: integer('skipped_vmids').array().notNull().default(sql`'{}'`),
  tags: tags(),
  notes: text('notes'),
  lastObservedAt: ts('last_observed_at'),
  /** A pending "Sync now" (migration 0013): the agent's next sync clears it. */
  syncRequestedAt: ts('sync_requested_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  /** Moves on every change of the row (migration 0008): the ETag. */
  rowVersion: bigint('row_version', { mode: 'number' }).notNull().default(1),
});

export const agentSyncCycles = pgTable(
  'agent_sync_cycles',
  {
    nodeId: uuid('node_id').notNull(),
    ownerId: uuid('owner_id').notNull(),
    cycleId: text('cycle_id').notNull(),
    bodyHash: bytea('body_hash').notNull(),
    response: jsonb('response').$type<Record<string, unknown>>().notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.nodeId, t.cycleId] })],
);

export const accounts = pgTable('accounts', {
  id: id(),
  ownerId: uuid('owner_id').notNull(),
  externalId: text('external_id'),
  service: text('service').notNull().default('steam'),
  username: text('username').notNull(),
  email: text('email'),
  status: text('status', { enum: ['active', 'locked', 'disabled', 'banned'] })
    .notNull()
    .default('active'),
  lockedUntil: ts('locked_until'),
  statusReason: text('status_reason'),
  tags: tags(),
  notes: text('notes'),
  attributes: jsonb('attributes').$type<Record<string, unknown>>().notNull().default({}),
  secretsEnc: text('secrets_enc'),
  secretFields: text('secret_fields').array().notNull().default(sql`'{}'`),
  claimedBy: text('claimed_by'),
  claimedAt: ts('claimed_at'),
  claimedUntil: ts('claimed_until'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  /** Moves on every change of the row (migration 0008): the ETag. */
  rowVersion: bigint('row_version', { mode: 'number' }).notNull().default(1),
});

export const accountStatusEvents = pgTable('account_status_events', {
  id: id(),
  ownerId: uuid('owner_id').notNull(),
  accountId: uuid('account_id').notNull(),
  fromStatus: text('from_status'),
  toStatus: text('to_status').notNull(),
  reason: text('reason'),
  at: ts('at').notNull().defaultNow(),
});

export const vms = pgTable('vms', {
  id: id(),
  ownerId: uuid('owner_id').notNull(),
  nodeId: uuid('node_id'),
  vmid: integer('vmid'),
  type: text('type', { enum: ['qemu', 'lxc'] })
    .notNull()
    .default('qemu'),
  name: text('name'),
  status: text('status', { enum: VM_STATUSES }).notNull().default('unknown'),
  template: boolean('template').notNull().default(false),
  pveLock: text('pve_lock'),
  cpuCores: integer('cpu_cores'),
  memoryMb: bigint('memory_mb', { mode: 'number' }),
  diskGb: doublePrecision('disk_gb'),
  ipAddresses: text('ip_addresses').array().notNull().default(sql`'{}'`),
  macAddresses: text('mac_addresses').array().notNull().default(sql`'{}'`),
  smbiosUuid: uuid('smbios_uuid'),
  tags: tags(),
  pveTags: text('pve_tags').array().notNull().default(sql`'{}'`),
  description: text('description'),
  notes: text('notes'),
  accountId: uuid('account_id'),
  cpuUsage: doublePrecision('cpu_usage'),
  memUsage: bigint('mem_usage', { mode: 'number' }),
  uptimeS: bigint('uptime_s', { mode: 'number' }),
  source: text('source', { enum: ['agent', 'manual'] })
    .notNull()
    .default('manual'),
  lastSeenAt: ts('last_seen_at'),
  absentSince: ts('absent_since'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  /** Moves on every change of the row (migration 0008): the ETag. */
  rowVersion: bigint('row_version', { mode: 'number' }).notNull().default(1),
});

/**
 * Liveness and live usage of a node's VMs, one row per node (migration 0012): a steady sync
 * writes this row instead of every VM row.
 */
export const vmLiveness = pgTable('vm_liveness', {
  nodeId: uuid('node_id').primaryKey(),
  ownerId: uuid('owner_id').notNull(),
  /** The node's last complete sync: every VM of the node not absent was seen then. */
  seenAt: ts('seen_at'),
  version: bigint('version', { mode: 'number' }).notNull().default(1),
  /** {"<vmid>": [cpu, mem, uptime_s]} as of the last sync. */
  usage: jsonb('usage').$type<Record<string, LiveUsageEntry>>().notNull().default(sql`'{}'::jsonb`),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

/** One guest's usage in vm_liveness.usage: cpu fraction, memory bytes, uptime seconds. */
export type LiveUsageEntry = [number | null, number | null, number | null];

export const vmStatusEvents = pgTable('vm_status_events', {
  id: id(),
  ownerId: uuid('owner_id').notNull(),
  vmId: uuid('vm_id').notNull(),
  fromStatus: text('from_status'),
  toStatus: text('to_status').notNull(),
  at: ts('at').notNull().defaultNow(),
});

export const hardware = pgTable('hardware', {
  id: id(),
  ownerId: uuid('owner_id').notNull(),
  accountId: uuid('account_id'),
  vmId: uuid('vm_id'),
  /** The record's id where it came from (the earlier AccountDB's hardware.id): migration 0009. */
  externalId: text('external_id'),
  biosVendor: text('bios_vendor'),
  biosVersion: text('bios_version'),
  diskSerial: text('disk_serial'),
  diskModel: text('disk_model'),
  smbiosUuid: uuid('smbios_uuid'),
  mbManufacturer: text('mb_manufacturer'),
  mbProduct: text('mb_product'),
  mbVersion: text('mb_version'),
  mbSerial: text('mb_serial'),
  macAddress: text('mac_address'),
  pcname: text('pcname'),
  machineGuid: uuid('machine_guid'),
  hwprofileGuid: uuid('hwprofile_guid'),
  productId: text('product_id'),
  deviceId: text('device_id'),
  tags: tags(),
  notes: text('notes'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  /** Moves on every change of the row (migration 0008): the ETag. */
  rowVersion: bigint('row_version', { mode: 'number' }).notNull().default(1),
});

export const cards = pgTable('cards', {
  id: id(),
  ownerId: uuid('owner_id').notNull(),
  code1Enc: text('code1_enc').notNull(),
  code1Bidx: bytea('code1_bidx').notNull(),
  code2Enc: text('code2_enc'),
  code2Bidx: bytea('code2_bidx'),
  codeHint: text('code_hint').notNull(),
  status: text('status', { enum: ['available', 'claimed', 'redeemed', 'failed', 'disabled'] })
    .notNull()
    .default('available'),
  failureReason: text('failure_reason'),
  claimedBy: text('claimed_by'),
  claimedAt: ts('claimed_at'),
  claimedUntil: ts('claimed_until'),
  redeemedAt: ts('redeemed_at'),
  accountId: uuid('account_id'),
  value: numeric('value', { precision: 14, scale: 2 }),
  currency: text('currency'),
  expiresAt: ts('expires_at'),
  tags: tags(),
  notes: text('notes'),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  /** Moves on every change of the row (migration 0008): the ETag. */
  rowVersion: bigint('row_version', { mode: 'number' }).notNull().default(1),
});

/**
 * Which AccountDB row each row of the earlier system's database became (migration 0010), per
 * owner, with a fingerprint of the body last written: `accountdb migrate-legacy` finds rows
 * again on a second run and updates only what changed.
 */
export const legacyIds = pgTable(
  'legacy_ids',
  {
    ownerId: uuid('owner_id').notNull(),
    sourceTable: text('source_table', {
      enum: ['users', 'accounts', 'hardware', 'cards', 'proxmox_nodes', 'vms'],
    }).notNull(),
    legacyId: text('legacy_id').notNull(),
    accountId: uuid('account_id'),
    hardwareId: uuid('hardware_id'),
    cardId: uuid('card_id'),
    nodeId: uuid('node_id'),
    vmId: uuid('vm_id'),
    fingerprint: text('fingerprint').notNull(),
    createdAt: ts('created_at').notNull().defaultNow(),
    updatedAt: ts('updated_at').notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.ownerId, t.sourceTable, t.legacyId] })],
);

/** Second factors of AccountDB's own login (migration 0018). */
export const mfaFactors = pgTable('mfa_factors', {
  id: id(),
  ownerId: uuid('owner_id').notNull(),
  kind: text('kind', { enum: ['totp'] }).notNull(),
  name: text('name').notNull().default('Authenticator app'),
  secretEnc: text('secret_enc'),
  lastUsedStep: bigint('last_used_step', { mode: 'number' }),
  confirmedAt: ts('confirmed_at'),
  lastUsedAt: ts('last_used_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const mfaRecoveryCodes = pgTable('mfa_recovery_codes', {
  id: id(),
  ownerId: uuid('owner_id').notNull(),
  codeHash: bytea('code_hash').notNull(),
  usedAt: ts('used_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const loginChallenges = pgTable('login_challenges', {
  id: id(),
  ownerId: uuid('owner_id').notNull(),
  purpose: text('purpose', { enum: ['mfa', 'enroll'] }).notNull(),
  expiresAt: ts('expires_at').notNull(),
  usedAt: ts('used_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

/** WebAuthn passkeys of AccountDB's own login and their ceremonies' challenges (migration 0019). */
export const mfaPasskeys = pgTable('mfa_passkeys', {
  id: id(),
  ownerId: uuid('owner_id').notNull(),
  credentialId: text('credential_id').notNull(),
  publicKey: bytea('public_key').notNull(),
  signCount: bigint('sign_count', { mode: 'number' }).notNull().default(0),
  transports: text('transports').array().notNull().default(sql`'{}'`),
  name: text('name').notNull(),
  deviceType: text('device_type', { enum: ['singleDevice', 'multiDevice'] }).notNull(),
  backedUp: boolean('backed_up').notNull().default(false),
  lastUsedAt: ts('last_used_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const passkeyChallenges = pgTable('passkey_challenges', {
  id: id(),
  ownerId: uuid('owner_id'),
  purpose: text('purpose', { enum: ['register', 'verify', 'login', 'passwordless'] }).notNull(),
  challenge: text('challenge').notNull(),
  expiresAt: ts('expires_at').notNull(),
  usedAt: ts('used_at'),
  createdAt: ts('created_at').notNull().defaultNow(),
});

export const appSettings = pgTable('app_settings', {
  id: smallint('id').primaryKey().default(1),
  mfaRequired: boolean('mfa_required').notNull().default(false),
  updatedAt: ts('updated_at').notNull().defaultNow(),
  updatedBy: uuid('updated_by'),
});

/** Shares of a node, VM or account with another user (migration 0020). */
export const GRANT_OBJECT_TYPES = ['proxmox_node', 'vm', 'account'] as const;
export type GrantObjectType = (typeof GRANT_OBJECT_TYPES)[number];

export const grants = pgTable('grants', {
  id: id(),
  ownerId: uuid('owner_id').notNull(),
  granteeId: uuid('grantee_id').notNull(),
  objectType: text('object_type', { enum: GRANT_OBJECT_TYPES }).notNull(),
  objectId: uuid('object_id').notNull(),
  permission: text('permission', { enum: ['read', 'write'] })
    .notNull()
    .default('read'),
  secrets: boolean('secrets').notNull().default(false),
  createdAt: ts('created_at').notNull().defaultNow(),
  updatedAt: ts('updated_at').notNull().defaultNow(),
});

export const schema = {
  users,
  loginLockouts,
  refreshTokens,
  apiTokens,
  auditLog,
  dataKeys,
  proxmoxNodes,
  agentSyncCycles,
  accounts,
  accountStatusEvents,
  vms,
  vmStatusEvents,
  hardware,
  cards,
  legacyIds,
  mfaFactors,
  mfaRecoveryCodes,
  loginChallenges,
  mfaPasskeys,
  passkeyChallenges,
  appSettings,
  grants,
};
export type Schema = typeof schema;
