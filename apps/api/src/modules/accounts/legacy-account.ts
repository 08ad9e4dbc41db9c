import type { FieldNames } from '../../http/field-names.js';
import { flagsToState, plainTags, stateToFlags } from './legacy-flags.js';
import {
  compact,
  isObj,
  LegacyFieldError,
  legacyBoolean,
  legacyDigits,
  legacyInteger,
  legacyTags,
  legacyText,
  legacyUnixTime,
} from './legacy-values.js';

/**
 * The earlier AccountDB's accounts (Xenogy/SLLAB; ../shared/LEGACY.md) as AccountDB create
 * bodies, and back:
 * - its upload object `{id, user, email, vault, metadata, steamguard, prime, lock, perm_lock}`
 *   (POST /upload/json, and each row of its dotted-header CSV, see legacy-csv.ts);
 * - one row of its `accounts` table (legacyAccountRowBody: a node-postgres row, a JSON export
 *   of the table, or a CSV dump's cells).
 * Where each value goes: docs/api.md "The earlier AccountDB's formats".
 */

type Obj = Record<string, unknown>;

/** Steam Guard keys of the earlier upload whose AccountDB name differs. */
const GUARD_KEY: Record<string, string> = { deviceId: 'device_id' };
const GUARD_KEY_BACK: Record<string, string> = { device_id: 'deviceId' };

/** Steam Guard values kept as numbers (digits beyond 2^53-1 stay strings). */
const GUARD_INTEGERS = new Set(['server_time', 'status', 'confirm_type']);
/** Steam Guard values that are AccountDB fields of their own. */
const GUARD_SECRETS = ['shared_secret', 'identity_secret', 'revocation_code'] as const;

/**
 * Steam Guard data → AccountDB's secret fields and the canonical steam_guard object (SDA
 * .maFile key names; serial_number always the exact digits as a string). Keys it does not
 * know are kept as they are.
 */
function steamGuardOf(guard: Obj, prefix: string): Obj {
  const out: Obj = {};
  const extras: Obj = {};
  for (const [key, value] of Object.entries(guard)) {
    const field = `${prefix}${key}`;
    const name = GUARD_KEY[key] ?? key;
    if ((GUARD_SECRETS as readonly string[]).includes(name)) out[name] = legacyText(value, field);
    else if (name === 'serial_number') extras[name] = legacyText(value, field);
    else if (GUARD_INTEGERS.has(name)) extras[name] = legacyInteger(value, field);
    else if (typeof value === 'string' || typeof value === 'number')
      extras[name] = legacyText(value, field);
    else if (value !== null && value !== undefined) extras[name] = value;
  }
  const steamGuard = compact(extras);
  return compact({
    ...out,
    steam_guard: Object.keys(steamGuard).length > 0 ? steamGuard : undefined,
  });
}

/** Status, reason and tags of the flags, merged with the record's own tags. */
function stateFields(flags: Obj, tags: string[] | undefined): Obj {
  const state = flagsToState({
    prime: legacyBoolean(flags.prime, 'prime'),
    lock: legacyBoolean(flags.lock, 'lock'),
    perm_lock: legacyBoolean(flags.perm_lock, 'perm_lock'),
  });
  if (!state) return compact({ tags });
  return {
    status: state.status,
    status_reason: state.status_reason,
    tags: [...(tags ?? []), ...state.flagTags],
  };
}

const part = (r: Obj, key: string): Obj => {
  const v = r[key];
  if (v === undefined || v === null) return {};
  if (!isObj(v)) throw new LegacyFieldError(key, 'must be an object');
  return v;
};

/**
 * email and vault: `{address, password}`, or the address alone as a string (records written by
 * hand or by other tools for the earlier system have `"email": "a@b.c"`).
 */
const addressPart = (r: Obj, key: 'email' | 'vault'): Obj =>
  typeof r[key] === 'string' ? { address: r[key] } : part(r, key);

/** The keys the earlier upload object has, per group; '' is the record itself. */
const UPLOAD_KEYS: Record<string, ReadonlySet<string>> = {
  '': new Set([
    'id',
    'user',
    'email',
    'vault',
    'metadata',
    'steamguard',
    'prime',
    'lock',
    'perm_lock',
  ]),
  user: new Set(['username', 'password']),
  email: new Set(['address', 'password']),
  vault: new Set(['address', 'password']),
  metadata: new Set(['createdAt', 'sessionStart', 'tags', 'guard']),
};

/**
 * The fields of an earlier upload object that the import reads past (dotted: `foo`,
 * `metadata.bar`), so that an import and its dry run can list them instead of dropping them
 * silently. steamguard keeps every key (unknown ones in steam_guard), so it has none.
 */
export function legacyUploadIgnored(r: Obj): string[] {
  const out: string[] = [];
  const known = (group: string) => UPLOAD_KEYS[group] ?? new Set<string>();
  for (const key of Object.keys(r)) if (!known('').has(key)) out.push(key);
  for (const group of ['user', 'email', 'vault', 'metadata']) {
    const v = r[group];
    if (!isObj(v)) continue;
    for (const key of Object.keys(v)) if (!known(group).has(key)) out.push(`${group}.${key}`);
  }
  return out;
}

/**
 * The earlier upload's names (JSON and dotted-header CSV) of the body's fields, for errors
 * (http/field-names.ts).
 */
export const LEGACY_UPLOAD_FIELD_NAMES: FieldNames = {
  external_id: 'id',
  username: 'user.username',
  password: 'user.password',
  email: 'email.address',
  email_password: 'email.password',
  vault_password: 'vault.password',
  created_at: 'metadata.createdAt',
  tags: 'metadata.tags',
  'tags/*': 'metadata.tags',
  'attributes/vault_address': 'vault.address',
  'attributes/session_start': 'metadata.sessionStart',
  'attributes/guard': 'metadata.guard',
  'attributes/guard/*': 'metadata.guard.',
  shared_secret: 'steamguard.shared_secret',
  identity_secret: 'steamguard.identity_secret',
  revocation_code: 'steamguard.revocation_code',
  steam_guard: 'steamguard',
  ...Object.fromEntries(
    Object.entries(GUARD_KEY).map(([k, v]) => [`steam_guard/${v}`, `steamguard.${k}`]),
  ),
  'steam_guard/*': 'steamguard.',
};

/** One record of the earlier upload format → a create/update body. */
export function legacyUploadBody(r: Obj): Obj {
  const user = part(r, 'user');
  const email = addressPart(r, 'email');
  const vault = addressPart(r, 'vault');
  const meta = part(r, 'metadata');
  const guard = part(r, 'steamguard');
  const attributes = compact({
    vault_address: legacyText(vault.address, 'vault.address'),
    session_start: legacyInteger(meta.sessionStart, 'metadata.sessionStart'),
    // A string in the earlier model; any other JSON value is kept as it is.
    guard:
      typeof meta.guard === 'string' || typeof meta.guard === 'number'
        ? legacyText(meta.guard, 'metadata.guard')
        : (meta.guard ?? undefined),
  });
  return compact({
    external_id: legacyDigits(r.id, 'id'),
    service: 'steam',
    username: legacyText(user.username, 'user.username'),
    password: legacyText(user.password, 'user.password'),
    email: legacyText(email.address, 'email.address'),
    email_password: legacyText(email.password, 'email.password'),
    vault_password: legacyText(vault.password, 'vault.password'),
    created_at: legacyUnixTime(meta.createdAt, 'metadata.createdAt'),
    ...stateFields(r, legacyTags(meta.tags, 'metadata.tags')),
    attributes: Object.keys(attributes).length > 0 ? attributes : undefined,
    ...steamGuardOf(guard, 'steamguard.'),
  });
}

/** Columns of the earlier `accounts` table, in its order (inits/01-accounts_table.sql). */
export const LEGACY_ACCOUNT_COLUMNS = [
  'id',
  'acc_id',
  'acc_username',
  'acc_password',
  'prime',
  'lock',
  'perm_lock',
  'farmlabs_upload',
  'acc_email_address',
  'acc_email_password',
  'acc_vault_address',
  'acc_vault_password',
  'acc_created_at',
  'acc_session_start',
  'acc_steamguard_account_name',
  'acc_confirm_type',
  'acc_device_id',
  'acc_identity_secret',
  'acc_revocation_code',
  'acc_secret_1',
  'acc_serial_number',
  'acc_server_time',
  'acc_shared_secret',
  'acc_status',
  'acc_token_gid',
  'acc_uri',
  'owner_id',
] as const;

/**
 * Columns a later migration of the earlier system added (references into its normalised
 * copies of the same data): read past, like owner_id.
 */
const IGNORED_COLUMNS = new Set(['owner_id', 'email_id', 'vault_id', 'steamguard_id']);
const KNOWN_COLUMNS = new Set<string>([...LEGACY_ACCOUNT_COLUMNS, ...IGNORED_COLUMNS]);

/** Table columns of the Steam Guard data: their canonical steam_guard name and type. */
const ROW_GUARD: Array<[column: string, key: string, type: 'text' | 'integer']> = [
  ['acc_steamguard_account_name', 'account_name', 'text'],
  ['acc_confirm_type', 'confirm_type', 'integer'],
  ['acc_device_id', 'device_id', 'text'],
  ['acc_secret_1', 'secret_1', 'text'],
  ['acc_serial_number', 'serial_number', 'text'],
  ['acc_server_time', 'server_time', 'integer'],
  ['acc_status', 'status', 'integer'],
  ['acc_token_gid', 'token_gid', 'text'],
  ['acc_uri', 'uri', 'text'],
];

/** The earlier accounts table's column of each body field, for errors (http/field-names.ts). */
export const LEGACY_TABLE_FIELD_NAMES: FieldNames = {
  external_id: 'acc_id',
  username: 'acc_username',
  password: 'acc_password',
  email: 'acc_email_address',
  email_password: 'acc_email_password',
  vault_password: 'acc_vault_password',
  created_at: 'acc_created_at',
  'attributes/legacy_id': 'id',
  'attributes/vault_address': 'acc_vault_address',
  'attributes/session_start': 'acc_session_start',
  'attributes/farmlabs_upload': 'farmlabs_upload',
  shared_secret: 'acc_shared_secret',
  identity_secret: 'acc_identity_secret',
  revocation_code: 'acc_revocation_code',
  ...Object.fromEntries(ROW_GUARD.map(([column, key]) => [`steam_guard/${key}`, column])),
};

/**
 * One row of the earlier `accounts` table → an AccountDB create body. Values as
 * node-postgres returns them (bigint columns as strings, booleans, uuid as a string), as a
 * JSON export of the table has them, or as the cells of a `psql \copy … CSV HEADER` dump
 * (`t`/`f`, NULL as an empty cell). Its serial `id` is kept as attributes.legacy_id (it is
 * not an AccountDB id); owner_id is not read: the importing owner decides. Throws a
 * LegacyFieldError naming the column of a value it cannot take.
 */
export function legacyAccountRowBody(row: Record<string, unknown>): Record<string, unknown> {
  for (const column of Object.keys(row)) {
    if (!KNOWN_COLUMNS.has(column))
      throw new LegacyFieldError(column, 'is not a column of the earlier accounts table');
  }
  const guard = compact(
    Object.fromEntries(
      ROW_GUARD.map(([column, key, type]) => [
        key,
        type === 'integer' ? legacyInteger(row[column], column) : legacyText(row[column], column),
      ]),
    ),
  );
  const attributes = compact({
    legacy_id: legacyInteger(row.id, 'id'),
    vault_address: legacyText(row.acc_vault_address, 'acc_vault_address'),
    session_start: legacyInteger(row.acc_session_start, 'acc_session_start'),
    farmlabs_upload: legacyText(row.farmlabs_upload, 'farmlabs_upload'),
  });
  return compact({
    external_id: legacyDigits(row.acc_id, 'acc_id'),
    service: 'steam',
    username: legacyText(row.acc_username, 'acc_username'),
    password: legacyText(row.acc_password, 'acc_password'),
    email: legacyText(row.acc_email_address, 'acc_email_address'),
    email_password: legacyText(row.acc_email_password, 'acc_email_password'),
    vault_password: legacyText(row.acc_vault_password, 'acc_vault_password'),
    created_at: legacyUnixTime(row.acc_created_at, 'acc_created_at'),
    ...stateFields(row, undefined),
    attributes: Object.keys(attributes).length > 0 ? attributes : undefined,
    shared_secret: legacyText(row.acc_shared_secret, 'acc_shared_secret'),
    identity_secret: legacyText(row.acc_identity_secret, 'acc_identity_secret'),
    revocation_code: legacyText(row.acc_revocation_code, 'acc_revocation_code'),
    steam_guard: Object.keys(guard).length > 0 ? guard : undefined,
  });
}

/** What an account is read from for the earlier format: its API shape and its secrets. */
export interface LegacySource {
  external_id: string | null;
  username: string;
  email: string | null;
  status: string;
  tags: string[];
  attributes: Record<string, unknown>;
  created_at: string;
}

export interface LegacySecrets {
  password?: string | null;
  email_password?: string | null;
  vault_password?: string | null;
  shared_secret?: string | null;
  identity_secret?: string | null;
  revocation_code?: string | null;
  steam_guard?: Record<string, unknown> | null;
}

/** The earlier upload's Steam Guard keys in the order its CSV handler lists them. */
export const LEGACY_GUARD_KEYS = [
  'deviceId',
  'shared_secret',
  'serial_number',
  'revocation_code',
  'uri',
  'server_time',
  'account_name',
  'token_gid',
  'identity_secret',
  'secret_1',
  'status',
  'confirm_type',
] as const;

/**
 * The earlier upload's steamguard object of an account: its known keys first, in the
 * earlier order, typed as the earlier upload model has them (server_time a string of digits;
 * status and confirm_type numbers), then any other Steam Guard data (.maFile session…) as it
 * is, so that nothing is lost on the way back.
 */
function legacySteamGuard(secrets: LegacySecrets): Obj | undefined {
  const guard = secrets.steam_guard ?? {};
  const out: Obj = {};
  const values: Obj = {
    ...Object.fromEntries(Object.entries(guard).map(([k, v]) => [GUARD_KEY_BACK[k] ?? k, v])),
    shared_secret: secrets.shared_secret ?? undefined,
    identity_secret: secrets.identity_secret ?? undefined,
    revocation_code: secrets.revocation_code ?? undefined,
  };
  for (const key of LEGACY_GUARD_KEYS) {
    const v = values[key];
    if (v === undefined || v === null) continue;
    out[key] = key === 'server_time' ? String(v) : v;
  }
  for (const [key, v] of Object.entries(values)) {
    if (!(key in out) && v !== undefined && v !== null) out[key] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

const unixSeconds = (iso: string) => Math.floor(new Date(iso).getTime() / 1000);

/**
 * An account in the earlier upload format (the object its /upload/json took), with its
 * flags. Without secrets, the passwords and the steamguard object are left out.
 */
export function legacyUploadRecord(account: LegacySource, secrets: LegacySecrets | null): Obj {
  const a = account.attributes;
  const s = secrets ?? {};
  const email = compact({
    address: account.email ?? undefined,
    password: s.email_password ?? undefined,
  });
  const vault = compact({
    address: typeof a.vault_address === 'string' ? a.vault_address : undefined,
    password: s.vault_password ?? undefined,
  });
  return compact({
    id: account.external_id ?? undefined,
    user: compact({ username: account.username, password: s.password ?? undefined }),
    email: Object.keys(email).length > 0 ? email : undefined,
    vault: Object.keys(vault).length > 0 ? vault : undefined,
    metadata: compact({
      createdAt: unixSeconds(account.created_at),
      sessionStart: a.session_start ?? undefined,
      guard: a.guard ?? undefined,
      tags: plainTags(account.tags).length > 0 ? plainTags(account.tags) : undefined,
    }),
    steamguard: secrets ? legacySteamGuard(s) : undefined,
    ...stateToFlags(account),
  });
}
