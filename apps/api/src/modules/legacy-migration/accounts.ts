import { and, eq } from 'drizzle-orm';
import { accounts } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';
import { createRow, updateRow } from '../../http/resource/write-row.js';
import {
  LEGACY_ACCOUNT_COLUMNS,
  LEGACY_TABLE_FIELD_NAMES,
  legacyAccountRowBody,
} from '../accounts/legacy-account.js';
import { FLAG_TAGS } from '../accounts/legacy-flags.js';
import { LegacyFieldError } from '../accounts/legacy-values.js';
import { accountSpec } from '../accounts/resource.js';
import { openSecrets } from '../accounts/secrets.js';
import { fingerprint, mappingsOf } from './legacy-ids.js';
import { writeMapped } from './mapped-write.js';
import { ownerBatches, type StepContext } from './owner-batches.js';
import { skip, type TableReport } from './report.js';

type AccountRow = typeof accounts.$inferSelect;
type Obj = Record<string, unknown>;

/** Values the mapper gives that the earlier row may no longer have: cleared on an update. */
const CLEARED = [
  'email',
  'status_reason',
  'password',
  'email_password',
  'vault_password',
  'shared_secret',
  'identity_secret',
  'revocation_code',
  'steam_guard',
] as const;

/** attributes keys the mapper writes (the others are AccountDB's own and stay). */
const MAPPED_ATTRIBUTES = ['legacy_id', 'vault_address', 'session_start', 'farmlabs_upload'];

const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The update of an account an earlier row changed: every mapped value as the row has it now
 * (what it no longer has cleared); tags, attributes and Steam Guard data AccountDB added to
 * the account (a .maFile's session, a tag of your own) kept.
 */
async function updateBody(
  body: Obj,
  current: AccountRow,
  options: { tx: Tx; ctx: StepContext },
): Promise<Obj> {
  const out: Obj = { ...Object.fromEntries(CLEARED.map((k) => [k, null])), ...body };
  const ownTags = current.tags.filter((t) => !(FLAG_TAGS as readonly string[]).includes(t));
  out.tags = [...ownTags, ...((body.tags as string[] | undefined) ?? [])];
  const ownAttributes = Object.fromEntries(
    Object.entries(current.attributes as Obj).filter(([k]) => !MAPPED_ATTRIBUTES.includes(k)),
  );
  out.attributes = { ...ownAttributes, ...((body.attributes as Obj | undefined) ?? {}) };
  if (current.secretFields.includes('steam_guard')) {
    const secrets = await openSecrets({ tx: options.tx, keys: options.ctx.keys, row: current });
    const before = secrets.steam_guard;
    if (isObj(before)) out.steam_guard = { ...before, ...((body.steam_guard as Obj) ?? {}) };
  }
  return out;
}

const COLUMNS = LEGACY_ACCOUNT_COLUMNS.map((c) => `a.${c}`).join(', ');

/**
 * Earlier accounts → accounts of their owner, through the account resource's write path
 * (the same checks, Steam secret normalisation, encryption, status history and audit as
 * POST /accounts): legacyAccountRowBody maps each row (SteamID64 → external_id, flags →
 * status and tags, Steam Guard columns → secrets and steam_guard). An account the owner
 * already has with that SteamID (a file import) is updated, never duplicated.
 */
export async function migrateAccounts(
  ctx: StepContext,
  options: { report: TableReport },
): Promise<void> {
  await ownerBatches(ctx, {
    query: `SELECT ${COLUMNS} FROM public.accounts a ORDER BY a.owner_id, a.id`,
    report: options.report,
    handle: async (batch) => {
      const { tx, owner, request, rows, report: t } = batch;
      const mapped = await mappingsOf(tx, {
        ownerId: owner.id,
        table: 'accounts',
        legacyIds: rows.map((r) => String(r.id)),
      });
      for (const row of rows) {
        const legacyId = String(row.id);
        let body: Obj;
        try {
          body = legacyAccountRowBody(row);
        } catch (err) {
          if (!(err instanceof LegacyFieldError)) throw err;
          skip(t, legacyId, err.message);
          continue;
        }
        const externalId = typeof body.external_id === 'string' ? body.external_id : null;
        await writeMapped<AccountRow>(batch, {
          table: 'accounts',
          spec: accountSpec,
          names: LEGACY_TABLE_FIELD_NAMES,
          legacyId,
          print: fingerprint(body),
          before: mapped.get(legacyId),
          naturalKey: `acc_id ${externalId}`,
          load: async (sp, id) =>
            (await sp.select().from(accounts).where(eq(accounts.id, id)).for('update'))[0],
          adopt: async (sp) =>
            externalId === null
              ? undefined
              : (
                  await sp
                    .select()
                    .from(accounts)
                    .where(and(eq(accounts.ownerId, owner.id), eq(accounts.externalId, externalId)))
                    .for('update')
                )[0],
          create: async (sp) =>
            (
              await createRow<AccountRow>(accountSpec, {
                tx: sp,
                request,
                keys: ctx.keys,
                ownerId: owner.id,
                body,
              })
            ).row,
          update: async (sp, current) => {
            await updateRow<AccountRow>(accountSpec, {
              tx: sp,
              request,
              keys: ctx.keys,
              current,
              body: await updateBody(body, current, { tx: sp, ctx }),
            });
          },
        });
      }
    },
  });
}
