import { eq } from 'drizzle-orm';
import type { FastifyRequest } from 'fastify';
import type { DataKeyStore } from '../../crypto/data-keys.js';
import type { Tx } from '../../db/tenant.js';
import { uuidv7 } from '../../db/uuid.js';
import { writeAudit } from '../../modules/audit/write-audit.js';
import { auditContext } from '../auth-hooks.js';
import { validatorFor } from '../body-validator.js';
import { ValidationError } from '../errors.js';
import type { AnySpec } from './list.js';
import type { WriteContext } from './spec.js';

/**
 * One create or update of a resource outside its HTTP route, with the route's steps: the
 * body checked against the same schema, the spec's toInsert/toUpdate (normalising,
 * encrypting), afterWrite (status history) and the same audit entry, in the caller's tenant
 * transaction. `accountdb migrate-legacy` writes the earlier system's nodes, VMs, accounts, cards
 * and hardware this way. A refused body throws a ValidationError naming the fields.
 */
export interface RowWrite {
  tx: Tx;
  /** The acting request (its actor, ip and id go into the audit entry). */
  request: FastifyRequest;
  keys: DataKeyStore;
}

const validators = new WeakMap<
  object,
  (value: unknown, path: string) => ReturnType<ReturnType<typeof validatorFor>>
>();

function check(schema: object, body: unknown): void {
  let validate = validators.get(schema);
  if (!validate) {
    validate = validatorFor(schema as never);
    validators.set(schema, validate);
  }
  const errors = validate(body, 'body');
  if (errors.length > 0) throw new ValidationError(errors);
}

/** Creates a row for ownerId; returns it and what the answer would add (a key shown once). */
export async function createRow<Row extends { id: string; ownerId: string }>(
  spec: AnySpec,
  options: RowWrite & { ownerId: string; body: Record<string, unknown> },
): Promise<{ row: Row; respond: Record<string, unknown> | undefined }> {
  const { tx, ownerId, body } = options;
  check(spec.createBody, body);
  const ctx: WriteContext = {
    tx,
    request: options.request,
    ownerId,
    keys: options.keys,
    rowId: uuidv7(),
  };
  const values = await spec.toInsert(body as never, ctx);
  const [row] = (await tx
    .insert(spec.table)
    .values({ ...values, id: ctx.rowId, ownerId } as never)
    .returning()) as Row[];
  if (!row) throw new Error('insert returned no row');
  await spec.afterWrite?.({ before: null, after: row as never, ctx });
  await writeAudit(tx, auditContext(options.request), {
    action: `${spec.entity}.create`,
    entityType: spec.entity,
    entityId: row.id,
    ownerId,
    details: { fields: Object.keys(body) },
  });
  return { row, respond: ctx.respond };
}

/** Changes the fields of body on the current row (locked by the caller); returns the row after. */
export async function updateRow<Row extends { id: string; ownerId: string }>(
  spec: AnySpec,
  options: RowWrite & { current: Row; body: Record<string, unknown> },
): Promise<Row> {
  const { tx, current, body } = options;
  check(spec.updateBody, body);
  const ctx: WriteContext = {
    tx,
    request: options.request,
    ownerId: current.ownerId,
    keys: options.keys,
    rowId: current.id,
  };
  const changes = await spec.toUpdate(body as never, current as never, ctx);
  let row = current;
  if (Object.keys(changes).length > 0) {
    const [after] = (await tx
      .update(spec.table)
      .set(changes as never)
      .where(eq(spec.table.id, current.id))
      .returning()) as Row[];
    if (!after) throw new Error('update matched no row');
    row = after;
    await spec.afterWrite?.({ before: current as never, after: row as never, ctx });
  }
  await writeAudit(tx, auditContext(options.request), {
    action: `${spec.entity}.update`,
    entityType: spec.entity,
    entityId: current.id,
    ownerId: current.ownerId,
    details: { fields: Object.keys(body) },
  });
  return row;
}
