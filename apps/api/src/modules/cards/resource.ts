import { eq, sql } from 'drizzle-orm';
import { type Static, Type } from 'typebox';
import { cards } from '../../db/schema.js';
import { auditContext } from '../../http/auth-hooks.js';
import { ValidationError } from '../../http/errors.js';
import { iso, normalizeTags } from '../../http/resource/fields.js';
import type {
  ReadContext,
  ResourceSpec,
  ResourceTable,
  WriteContext,
} from '../../http/resource/spec.js';
import { writeAudit } from '../audit/write-audit.js';
import { codeHint, openCode, sealCode } from './card-codes.js';
import { legacyCardFlags } from './legacy-card.js';
import { Card, CardStatus, CreateCard, UpdateCard } from './schemas.js';

type Row = typeof cards.$inferSelect;
type Dto = Static<typeof Card>;
type Create = Static<typeof CreateCard>;
type Update = Static<typeof UpdateCard>;

/** The status as it stands now: a claim whose lease lapsed is available again. */
export const effectiveCardStatus = (
  row: Pick<Row, 'status' | 'claimedUntil'>,
  now = Date.now(),
): Row['status'] =>
  row.status === 'claimed' && (!row.claimedUntil || row.claimedUntil.getTime() <= now)
    ? 'available'
    : row.status;

export const effectiveCardStatusSql = sql`(CASE WHEN ${cards.status} = 'claimed' AND (${cards.claimedUntil} IS NULL OR ${cards.claimedUntil} <= now()) THEN 'available' ELSE ${cards.status} END)`;

export function toCardDto(row: Row): Dto {
  const status = effectiveCardStatus(row);
  return {
    id: row.id,
    owner_id: row.ownerId,
    code_hint: row.codeHint,
    has_code2: row.code2Enc !== null,
    status,
    failure_reason: row.failureReason,
    claimed_by: status === 'claimed' ? row.claimedBy : null,
    claimed_until: status === 'claimed' ? iso(row.claimedUntil) : null,
    redeemed_at: iso(row.redeemedAt),
    account_id: row.accountId,
    value: row.value === null ? null : Number(row.value),
    currency: row.currency,
    expires_at: iso(row.expiresAt),
    tags: row.tags,
    notes: row.notes,
    created_at: row.createdAt.toISOString(),
    updated_at: row.updatedAt.toISOString(),
  };
}

/** The card with its codes in clear. The caller audits the reveal. */
export async function revealCard(row: Row, ctx: ReadContext): Promise<Dto> {
  const code1 = await openCode({
    tx: ctx.tx,
    keys: ctx.keys,
    row,
    column: 'code1',
    enc: row.code1Enc,
  });
  const code2 = row.code2Enc
    ? await openCode({ tx: ctx.tx, keys: ctx.keys, row, column: 'code2', enc: row.code2Enc })
    : null;
  return { ...toCardDto(row), code1, code2 };
}

async function codeValues(
  body: { code1?: string; code2?: string | null },
  ctx: WriteContext,
): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = {};
  const seal = (column: 'code1' | 'code2', code: string) =>
    sealCode({ tx: ctx.tx, keys: ctx.keys, ownerId: ctx.ownerId, rowId: ctx.rowId, column, code });
  if (body.code1 !== undefined) {
    const s = await seal('code1', body.code1);
    Object.assign(out, { code1Enc: s.enc, code1Bidx: s.bidx, codeHint: codeHint(body.code1) });
  }
  if (body.code2 !== undefined) {
    if (body.code2 === null) Object.assign(out, { code2Enc: null, code2Bidx: null });
    else {
      const s = await seal('code2', body.code2);
      Object.assign(out, { code2Enc: s.enc, code2Bidx: s.bidx });
    }
  }
  return out;
}

function plainValues(body: Partial<Update>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (body.value !== undefined) out.value = body.value === null ? null : String(body.value);
  if (body.currency !== undefined) out.currency = body.currency?.toUpperCase() ?? null;
  if (body.expires_at !== undefined)
    out.expiresAt = body.expires_at ? new Date(body.expires_at) : null;
  if (body.account_id !== undefined) out.accountId = body.account_id;
  if (body.tags !== undefined) out.tags = normalizeTags(body.tags);
  if (body.notes !== undefined) out.notes = body.notes;
  if (body.failure_reason !== undefined) out.failureReason = body.failure_reason;
  if (body.status !== undefined) {
    out.status = body.status;
    if (body.status !== 'claimed')
      Object.assign(out, { claimedBy: null, claimedAt: null, claimedUntil: null });
    if (body.status === 'redeemed') out.redeemedAt = new Date();
  }
  return out;
}

export async function cardInsertValues(
  body: Create,
  ctx: WriteContext,
): Promise<Record<string, unknown>> {
  return { ...plainValues(body), ...(await codeValues(body, ctx)) };
}

const tf = (v: boolean) => (v ? 't' : 'f');
type LegacyCsvRow = {
  code1: string;
  code2: string | null;
  redeemed: boolean;
  failed: string;
  lock: boolean;
  perm_lock: boolean;
};
const LEGACY_CSV_COLUMNS: Array<{ header: string; value: (row: never) => unknown }> = [
  { header: 'code1', value: (r: LegacyCsvRow) => r.code1 },
  { header: 'code2', value: (r: LegacyCsvRow) => r.code2 },
  { header: 'redeemed', value: (r: LegacyCsvRow) => tf(r.redeemed) },
  { header: 'failed', value: (r: LegacyCsvRow) => r.failed },
  { header: 'lock', value: (r: LegacyCsvRow) => tf(r.lock) },
  { header: 'perm_lock', value: (r: LegacyCsvRow) => tf(r.perm_lock) },
];

/** The earlier formats are the codes: they need include_codes=true, and are audited so. */
function legacyExport(query: Record<string, unknown>, format: string) {
  if (!query.include_codes) {
    throw new ValidationError([
      {
        path: '/querystring/include_codes',
        message: `must be true for format=${format}: the earlier format is the codes themselves`,
      },
    ]);
  }
  return { auditDetails: { include_codes: true } };
}

export const cardSpec: ResourceSpec<Row, Dto, Create, Update> = {
  path: 'cards',
  entity: 'card',
  table: cards as unknown as ResourceTable,
  dto: Card,
  createBody: CreateCard,
  updateBody: UpdateCard,
  description:
    'Redeemable cards. Codes are stored encrypted and shown masked; GET /cards/{id} shows them (audited). ' +
    'Find a card by its code with POST /cards/lookup (the code in the body, never in a URL).',
  sort: {
    created_at: { expr: cards.createdAt, type: 'timestamptz' },
    updated_at: { expr: cards.updatedAt, type: 'timestamptz' },
    status: { expr: effectiveCardStatusSql, type: 'text' },
    value: { expr: sql`coalesce(${cards.value}, -1)`, type: 'double precision' },
    expires_at: {
      expr: sql`coalesce(${cards.expiresAt}, 'infinity'::timestamptz)`,
      type: 'timestamptz',
    },
  },
  defaultSort: 'created_at',
  filters: {
    status: { schema: CardStatus, where: (v: string) => sql`${effectiveCardStatusSql} = ${v}` },
    currency: {
      schema: Type.String({ pattern: '^[A-Za-z]{3}$' }),
      where: (v: string) => eq(cards.currency, v.toUpperCase()),
    },
    account_id: {
      schema: Type.String({ format: 'uuid' }),
      where: (v: string) => eq(cards.accountId, v),
    },
    expired: {
      schema: Type.Boolean(),
      where: (v: boolean) =>
        v
          ? sql`${cards.expiresAt} <= now()`
          : sql`(${cards.expiresAt} IS NULL OR ${cards.expiresAt} > now())`,
    },
  },
  search: 'search_cards',
  links: { account_id: 'account' },
  uniques: { cards_owner_code1_key: 'code1' },
  toDto: toCardDto,
  toDetail: async (row, ctx) => {
    await writeAudit(ctx.tx, auditContext(ctx.request), {
      action: 'card.reveal',
      entityType: 'card',
      entityId: row.id,
      ownerId: row.ownerId,
      ...(ctx.reason !== undefined ? { details: { reason: ctx.reason } } : {}),
    });
    return revealCard(row, ctx);
  },
  toInsert: cardInsertValues,
  toUpdate: async (body, _current, ctx) => ({
    ...plainValues(body),
    ...(await codeValues(body, ctx)),
  }),
  csv: [
    { header: 'id', value: (d) => d.id },
    { header: 'code_hint', value: (d) => d.code_hint },
    { header: 'status', value: (d) => d.status },
    { header: 'value', value: (d) => d.value },
    { header: 'currency', value: (d) => d.currency },
    { header: 'expires_at', value: (d) => d.expires_at },
    { header: 'redeemed_at', value: (d) => d.redeemed_at },
    { header: 'account_id', value: (d) => d.account_id },
    { header: 'failure_reason', value: (d) => d.failure_reason },
    { header: 'tags', value: (d) => d.tags },
    { header: 'created_at', value: (d) => d.created_at },
  ],
  exportQuery: {
    include_codes: Type.Boolean({
      default: false,
      description: 'Include the codes in clear (audited)',
    }),
  },
  exportDescription:
    'With include_codes=true the codes are included in clear; the export is audited as such.',
  exportFormats: {
    'legacy-json': {
      body: 'json',
      description:
        'the earlier AccountDB card body, a list of [code1] or [code1, code2] lists (needs include_codes=true).',
      exporter: async (_request, query) => ({
        ...legacyExport(query, 'legacy-json'),
        toRow: async (row, ctx) => {
          const card = await revealCard(row, ctx);
          return card.code2 ? [card.code1, card.code2] : [card.code1];
        },
        columns: [],
      }),
    },
    'legacy-csv': {
      body: 'csv',
      csv: 'dump',
      description:
        'the earlier cards table as psql writes it (`code1,code2,redeemed,failed,lock,perm_lock`; t/f, NULL empty, ' +
        '\'\' as ""; values exact, not defused against spreadsheet formulas; needs include_codes=true).',
      exporter: async (_request, query) => ({
        ...legacyExport(query, 'legacy-csv'),
        toRow: async (row, ctx) => {
          const card = await revealCard(row, ctx);
          const flags = legacyCardFlags(card);
          return { code1: card.code1, code2: card.code2 ?? null, ...flags };
        },
        columns: LEGACY_CSV_COLUMNS,
      }),
    },
  },
  exportRow: async (_request, query) => {
    if (!query.include_codes) return null;
    return {
      auditDetails: { include_codes: true },
      toRow: (row, ctx) => revealCard(row, ctx),
      columns: [
        ...cardSpec.csv,
        { header: 'code1', value: (d: Dto) => d.code1 },
        { header: 'code2', value: (d: Dto) => d.code2 },
      ] as Array<{ header: string; value: (row: never) => unknown }>,
    };
  },
};
