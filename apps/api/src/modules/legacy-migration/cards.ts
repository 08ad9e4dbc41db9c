import { and, eq } from 'drizzle-orm';
import { blindIndex } from '../../crypto/envelope.js';
import { cards } from '../../db/schema.js';
import { normalizeTags } from '../../http/resource/fields.js';
import { createRow, updateRow } from '../../http/resource/write-row.js';
import { normalizeCode } from '../cards/card-codes.js';
import { LEGACY_CARD_FIELD_NAMES } from '../cards/card-readers.js';
import { CARD_FLAG_TAGS, LegacyCardRowError, legacyCardRowBody } from '../cards/legacy-card.js';
import { cardSpec } from '../cards/resource.js';
import { fingerprint, mappingsOf } from './legacy-ids.js';
import { writeMapped } from './mapped-write.js';
import { ownerBatches, type StepContext } from './owner-batches.js';
import { skip, type TableReport } from './report.js';

type CardRow = typeof cards.$inferSelect;

/**
 * Earlier cards → cards of their owner through the card resource's write path (codes
 * encrypted with their blind index, audited). legacyCardRowBody gives status, failure_reason
 * and flag tags; a card is created available or disabled (as POST /cards makes them) and a
 * redeemed or failed one then gets its status and failure reason as PATCH /cards/{id} sets
 * them. A card the owner already has with the same code (a file import) is updated, never
 * duplicated; its own tags stay.
 */
export async function migrateCards(
  ctx: StepContext,
  options: { report: TableReport },
): Promise<void> {
  await ownerBatches(ctx, {
    query:
      'SELECT id, code1, code2, redeemed, failed, lock, perm_lock, owner_id FROM public.cards ORDER BY owner_id, id',
    report: options.report,
    handle: async (batch) => {
      const { tx, owner, request, rows, report: t } = batch;
      const mapped = await mappingsOf(tx, {
        ownerId: owner.id,
        table: 'cards',
        legacyIds: rows.map((r) => String(r.id)),
      });
      const key = await ctx.keys.forOwner(tx, owner.id);
      for (const row of rows) {
        const legacyId = String(row.id);
        const { id: _id, owner_id: _owner, ...columns } = row;
        let body: ReturnType<typeof legacyCardRowBody>;
        try {
          body = legacyCardRowBody(columns);
        } catch (err) {
          if (!(err instanceof LegacyCardRowError)) throw err;
          skip(t, legacyId, err.message);
          continue;
        }
        const state =
          body.status === 'redeemed' || body.status === 'failed'
            ? { status: body.status, failure_reason: body.failure_reason }
            : null;
        const write = { tx, request, keys: ctx.keys };
        await writeMapped<CardRow>(batch, {
          table: 'cards',
          spec: cardSpec,
          names: LEGACY_CARD_FIELD_NAMES,
          legacyId,
          print: fingerprint(body),
          before: mapped.get(legacyId),
          naturalKey: 'code1',
          load: async (sp, id) =>
            (await sp.select().from(cards).where(eq(cards.id, id)).for('update'))[0],
          adopt: async (sp) =>
            (
              await sp
                .select()
                .from(cards)
                .where(
                  and(
                    eq(cards.ownerId, owner.id),
                    eq(cards.code1Bidx, blindIndex(key, normalizeCode(body.code1))),
                  ),
                )
                .for('update')
            )[0],
          create: async (sp) => {
            const { row: card } = await createRow<CardRow>(cardSpec, {
              ...write,
              tx: sp,
              ownerId: owner.id,
              body: {
                code1: body.code1,
                ...(body.code2 ? { code2: body.code2 } : {}),
                ...(body.status === 'disabled' ? { status: 'disabled' } : {}),
                tags: body.tags,
              },
            });
            if (!state) return card;
            return updateRow<CardRow>(cardSpec, { ...write, tx: sp, current: card, body: state });
          },
          update: async (sp, current) => {
            const own = current.tags.filter(
              (tag) => !(CARD_FLAG_TAGS as readonly string[]).includes(tag),
            );
            await updateRow<CardRow>(cardSpec, {
              ...write,
              tx: sp,
              current,
              body: {
                code1: body.code1,
                code2: body.code2 ?? null,
                status: body.status,
                failure_reason: body.failure_reason,
                tags: normalizeTags([...own, ...body.tags]),
              },
            });
          },
        });
      }
    },
  });
}
