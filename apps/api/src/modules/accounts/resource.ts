import { eq, type SQL, sql } from 'drizzle-orm';
import { type Static, Type } from 'typebox';
import { accounts } from '../../db/schema.js';
import { ValidationError } from '../../http/errors.js';
import { iso, normalizeTags } from '../../http/resource/fields.js';
import type { ResourceSpec, ResourceTable, WriteContext } from '../../http/resource/spec.js';
import { legacyExport } from './legacy-export.js';
import { CREATED_AT_SKEW_MS } from './legacy-values.js';
import {
  Account,
  type AccountSecrets,
  CreateAccount,
  SECRET_FIELDS,
  SECRET_STRING_FIELDS,
  Status,
  UpdateAccount,
} from './schemas.js';
import {
  applySecretChanges,
  openSecrets,
  type SecretChanges,
  sealSecrets,
  takeSecretChanges,
  validateSecretChanges,
} from './secrets.js';
import { effectiveStatus, effectiveStatusSql, leaseActive, recordStatusChange } from './status.js';

type Row = typeof accounts.$inferSelect;
type Dto = Static<typeof Account>;
type Create = Static<typeof CreateAccount>;
type Update = Static<typeof UpdateAccount>;

export function toAccountDto(row: Row): Dto {
  const status = effectiveStatus(row);
  const has = new Set(row.secretFields);
  const lease = leaseActive(row);
  return {
    id: row.id,
    owner_id: row.ownerId,
    external_id: row.externalId,
    service: row.service,
    username: row.username,
    email: row.email,
    status,
    locked_until: status === 'locked' ? iso(row.lockedUntil) : null,
    status_reason: row.statusReason,
    tags: row.tags,
    notes: row.notes,
    attributes: row.attributes,
    ...Object.fromEntries(SECRET_FIELDS.map((f) => [`has_${f}`, has.has(f)])),
    has_totp: has.has('totp_secret') || has.has('shared_secret'),
    claimed_by: lease ? row.claimedBy : null,
    claimed_until: lease ? iso(row.claimedUntil) : null,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  } as Dto;
}

/** Status and lock fields of a write: locked_until implies locked; other statuses clear it. */
function statusValues(body: Partial<Create>, current: Row | null): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let status = body.status;
  if (status === undefined && body.locked_until) status = 'locked';
  if (status !== undefined) out.status = status;
  if (body.locked_until !== undefined)
    out.lockedUntil = body.locked_until ? new Date(body.locked_until) : null;
  else if (status !== undefined && status !== 'locked') out.lockedUntil = null;
  else if (status === 'locked' && current && current.status !== 'locked') out.lockedUntil = null;
  if (body.status_reason !== undefined) out.statusReason = body.status_reason;
  return out;
}

/** A given creation time, refused in the future beyond the allowed clock skew. */
function createdAtValue(value: string): Date {
  const at = new Date(value);
  if (at.getTime() > Date.now() + CREATED_AT_SKEW_MS) {
    throw new ValidationError([{ path: '/body/created_at', message: 'must not be in the future' }]);
  }
  return at;
}

function plainValues(body: Partial<Create>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (body.created_at !== undefined) out.createdAt = createdAtValue(body.created_at);
  if (body.username !== undefined) out.username = body.username.trim();
  if (body.external_id !== undefined) out.externalId = body.external_id?.trim() || null;
  if (body.service !== undefined) out.service = body.service.trim().toLowerCase();
  if (body.email !== undefined) out.email = body.email?.trim() || null;
  if (body.tags !== undefined) out.tags = normalizeTags(body.tags);
  if (body.notes !== undefined) out.notes = body.notes;
  if (body.attributes !== undefined) out.attributes = body.attributes;
  return out;
}

/** Row values of a new account (secrets encrypted for the new row). */
export async function accountInsertValues(
  body: Create,
  ctx: WriteContext,
): Promise<Record<string, unknown>> {
  const rest = { ...body } as Record<string, unknown>;
  const changes = takeSecretChanges(rest);
  validateSecretChanges(changes);
  const secrets = applySecretChanges({}, changes);
  return {
    ...plainValues(rest as Create),
    ...statusValues(rest as Create, null),
    ...(await sealSecrets({
      tx: ctx.tx,
      keys: ctx.keys,
      rowId: ctx.rowId,
      ownerId: ctx.ownerId,
      secrets,
    })),
  };
}

/** Changed values of an account (secrets merged into the current ones and re-encrypted). */
export async function accountUpdateValues(
  body: Update,
  current: Row,
  ctx: WriteContext,
): Promise<Record<string, unknown>> {
  const rest = { ...body } as Record<string, unknown>;
  const changes: SecretChanges = takeSecretChanges(rest);
  validateSecretChanges(changes);
  const out = { ...plainValues(rest as Update), ...statusValues(rest as Update, current) };
  if (Object.keys(changes).length > 0) {
    const secrets = applySecretChanges(
      await openSecrets({ tx: ctx.tx, keys: ctx.keys, row: current, actor: ctx.request.actor }),
      changes,
    );
    Object.assign(
      out,
      await sealSecrets({
        tx: ctx.tx,
        keys: ctx.keys,
        rowId: current.id,
        ownerId: current.ownerId,
        secrets,
        actor: ctx.request.actor,
      }),
    );
  }
  return out;
}

const ci = (col: unknown): SQL => sql`lower(${col})`;

export const accountSpec: ResourceSpec<Row, Dto, Create, Update> = {
  path: 'accounts',
  entity: 'account',
  table: accounts as unknown as ResourceTable,
  dto: Account,
  createBody: CreateAccount,
  updateBody: UpdateAccount,
  description:
    'Accounts at online services, with their credentials and 2FA secrets stored encrypted.',
  sort: {
    created_at: { expr: accounts.createdAt, type: 'timestamptz' },
    updated_at: { expr: accounts.updatedAt, type: 'timestamptz' },
    username: { expr: ci(accounts.username), type: 'text' },
    service: { expr: accounts.service, type: 'text' },
    status: { expr: effectiveStatusSql, type: 'text' },
    external_id: { expr: sql`coalesce(${accounts.externalId}, '')`, type: 'text' },
  },
  defaultSort: 'created_at',
  filters: {
    status: {
      schema: { ...Status, description: 'Status as it stands now' },
      where: (v: string) => sql`${effectiveStatusSql} = ${v}`,
    },
    service: {
      schema: Type.String({ maxLength: 50 }),
      where: (v: string) => eq(accounts.service, v.toLowerCase()),
    },
    external_id: {
      schema: Type.String({ maxLength: 200 }),
      where: (v: string) => eq(accounts.externalId, v),
    },
    username: {
      schema: Type.String({ maxLength: 200, description: 'Exact username, ignoring case' }),
      where: (v: string) => sql`${ci(accounts.username)} = ${v.toLowerCase()}`,
    },
    email: {
      schema: Type.String({ maxLength: 254, description: 'Exact e-mail, ignoring case' }),
      where: (v: string) => sql`lower(${accounts.email}) = ${v.toLowerCase()}`,
    },
    has_totp: {
      schema: Type.Boolean({ description: 'Has a TOTP or Steam shared secret' }),
      where: (v: boolean) =>
        v
          ? sql`${accounts.secretFields} && ARRAY['totp_secret', 'shared_secret']::text[]`
          : sql`NOT (${accounts.secretFields} && ARRAY['totp_secret', 'shared_secret']::text[])`,
    },
    claimed: {
      schema: Type.Boolean({ description: 'A lease is running' }),
      where: (v: boolean) =>
        v
          ? sql`${accounts.claimedUntil} > now()`
          : sql`(${accounts.claimedUntil} IS NULL OR ${accounts.claimedUntil} <= now())`,
    },
  },
  search: 'search_accounts',
  share: 'account',
  uniques: { accounts_owner_external_key: 'external_id' },
  toDto: toAccountDto,
  toInsert: accountInsertValues,
  toUpdate: accountUpdateValues,
  afterWrite: ({ before, after, ctx }) => recordStatusChange(ctx.tx, { before, after }),
  csv: [
    { header: 'id', value: (d) => d.id },
    { header: 'external_id', value: (d) => d.external_id },
    { header: 'service', value: (d) => d.service },
    { header: 'username', value: (d) => d.username },
    { header: 'email', value: (d) => d.email },
    { header: 'status', value: (d) => d.status },
    { header: 'locked_until', value: (d) => d.locked_until },
    { header: 'tags', value: (d) => d.tags },
    { header: 'notes', value: (d) => d.notes },
    { header: 'has_password', value: (d) => d.has_password },
    { header: 'has_totp', value: (d) => d.has_totp },
    { header: 'created_at', value: (d) => d.created_at },
    { header: 'updated_at', value: (d) => d.updated_at },
  ],
  exportQuery: {
    include_secrets: Type.Boolean({
      default: false,
      description: 'Include decrypted secrets (audited)',
    }),
  },
  exportDescription:
    'With include_secrets=true the secrets are included in clear; the export is audited as such. ' +
    "legacy-json and legacy-csv write the earlier AccountDB's upload format (flags from status and tags; " +
    'without include_secrets no password or Steam Guard data); POST /accounts/import reads them back.',
  exportFormats: {
    'legacy-json': {
      body: 'json',
      description:
        "the earlier AccountDB's upload objects ({id, user, email, vault, metadata, steamguard, prime, lock, perm_lock})",
      exporter: async (_request, query) =>
        legacyExport({ includeSecrets: query.include_secrets === true }),
    },
    'legacy-csv': {
      body: 'csv',
      csv: 'literal',
      description:
        "the earlier AccountDB's upload CSV (dotted headers), every cell exactly as it is (not defused: not for spreadsheets)",
      exporter: async (_request, query) =>
        legacyExport({ includeSecrets: query.include_secrets === true }),
    },
  },
  exportRow: async (_request, query) => {
    if (!query.include_secrets) return null;
    type WithSecrets = Dto & { secrets: Static<typeof AccountSecrets> };
    return {
      auditDetails: { include_secrets: true },
      toRow: async (row, ctx) => {
        const secrets = await openSecrets({
          tx: ctx.tx,
          keys: ctx.keys,
          row,
          actor: ctx.request.actor,
        });
        return {
          ...toAccountDto(row),
          secrets: Object.fromEntries(SECRET_FIELDS.map((f) => [f, secrets[f] ?? null])),
        };
      },
      columns: [
        ...accountSpec.csv,
        ...SECRET_STRING_FIELDS.map((f) => ({
          header: f,
          value: (d: WithSecrets) => d.secrets[f],
        })),
        { header: 'steam_guard', value: (d: WithSecrets) => d.secrets.steam_guard },
      ] as Array<{ header: string; value: (row: never) => unknown }>,
    };
  },
};
