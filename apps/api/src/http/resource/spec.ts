import type { SQL } from 'drizzle-orm';
import type { PgColumn, PgTable } from 'drizzle-orm/pg-core';
import type { FastifyRequest } from 'fastify';
import type { TObject, TSchema } from 'typebox';
import type { DataKeyStore } from '../../crypto/data-keys.js';
import type { GrantObjectType } from '../../db/schema.js';
import type { Tx } from '../../db/tenant.js';

/** A sort key a list may be ordered by: a non-null expression and its SQL type. */
export interface SortField {
  /** Must never be NULL (coalesce nullable columns) so keyset comparisons hold. */
  expr: SQL | PgColumn;
  type: 'text' | 'bigint' | 'double precision' | 'timestamptz' | 'uuid' | 'boolean' | 'integer';
}

/** A typed list filter: its query-string schema and the condition it adds. */
export interface FilterSpec {
  schema: TSchema;
  /** The condition for a value; may use the transaction (e.g. to compute a blind index). */
  where: (value: never, ctx: ReadContext) => SQL | undefined | Promise<SQL | undefined>;
}

/** What a write needs besides the body. */
export interface WriteContext {
  tx: Tx;
  request: FastifyRequest;
  /** The owner the row belongs to (the caller, or the user an admin acts for). */
  ownerId: string;
  /** Id of the row written (chosen before the insert, so secrets can be bound to it). */
  rowId: string;
  keys: DataKeyStore;
  /** Fields a write adds to its own answer only (e.g. a key shown once). */
  respond?: Record<string, unknown>;
}

/** What a read needs to turn a row into its API shape. */
export interface ReadContext {
  tx: Tx;
  request: FastifyRequest;
  keys: DataKeyStore;
  /** Why an admin reveals another user's object (GET …/{id}?reason=): for toDetail's audit. */
  reason?: string;
}

export interface ResourceTable extends PgTable {
  id: PgColumn;
  ownerId: PgColumn;
  tags: PgColumn;
  createdAt: PgColumn;
  updatedAt: PgColumn;
}

/**
 * Everything the shared CRUD machinery needs to know about one resource. A feature module
 * describes its resource once; registerResourceRoutes() then serves list, get, create,
 * update, delete, bulk, bulk-delete and export with the same rules everywhere.
 */
export interface ResourceSpec<Row extends { id: string; ownerId: string }, Dto, Create, Update> {
  /** Path segment and OpenAPI tag: 'accounts'. */
  path: string;
  /** Singular name for the audit log: 'account'. */
  entity: string;
  /** Singular name for people, when it differs from entity: 'Proxmox node'. */
  label?: string;
  table: ResourceTable;
  /** Response schema of one object (with $id). */
  dto: TObject;
  createBody: TObject;
  updateBody: TObject;
  /** Sort keys by public name; the list's default order is the first entry of defaultSort. */
  sort: Record<string, SortField>;
  defaultSort: string;
  filters: Record<string, FilterSpec>;
  /**
   * The SECURITY DEFINER function `q` goes through (migration 0015): the ids of the caller's
   * rows that match a term, ranked (name equal, name prefix, a text field containing the
   * term, a name similar to it). Its fields are listed in docs/api.md.
   */
  search: `search_${string}`;
  /**
   * The object type of its grants when other users may share these objects with the caller
   * (migration 0020): lists then take `shared` and items shared with the caller carry
   * shared_by and permission.
   */
  share?: GrantObjectType;
  /**
   * Runs once before a page of rows (a list page, an export page, one GET) goes through
   * toDto, in the same transaction: loads what the rows' API shape needs from elsewhere in
   * one query instead of one per row.
   */
  prepareRead?(rows: Row[], ctx: ReadContext): Promise<void>;
  /** The API shape of a row in lists and write answers. */
  toDto(row: Row, ctx: ReadContext): Dto | Promise<Dto>;
  /** The shape of GET /{r}/{id} when it shows more than lists do (audit the reveal there). */
  toDetail?(row: Row, ctx: ReadContext): Promise<Dto>;
  /** Row values for an insert, from a validated body (normalise, encrypt). */
  toInsert(body: Create, ctx: WriteContext): Promise<Record<string, unknown>>;
  /** Changed values for an update, from a validated body and the current row. */
  toUpdate(body: Update, current: Row, ctx: WriteContext): Promise<Record<string, unknown>>;
  /**
   * Its rows hold a credential (a node's agent key): deleting one makes this process's
   * credential cache forget it at once (other processes hear of it through LISTEN).
   */
  holdsCredential?: boolean;
  /** Runs after an insert or update in the same transaction (status history…). */
  afterWrite?(options: { before: Row | null; after: Row; ctx: WriteContext }): Promise<void>;
  /** Link columns and the entity they point at, for clear errors on a bad reference. */
  links?: Record<string, string>;
  /** Unique index names and the field each guards, for clear 409s. */
  uniques?: Record<string, string>;
  /** Columns of the CSV export, in order, from the API shape. */
  csv: Array<{ header: string; value: (dto: Dto) => unknown }>;
  /** What the list and export of this resource are, for OpenAPI. */
  description: string;
  /** Extra query parameters of the export (e.g. include_secrets). */
  exportQuery?: Record<string, TSchema>;
  exportDescription?: string;
  /**
   * Export formats beyond csv and json (e.g. the earlier AccountDB's shapes), by the name
   * ?format= takes: each its own row shape and columns.
   */
  exportFormats?: Record<string, ExtraExportFormat<Row>>;
  /**
   * A different row shape for this csv/json export request (e.g. with secrets), or null for
   * the API shape. May refuse (throw) and adds to the export's audit entry.
   */
  exportRow?(
    request: FastifyRequest,
    query: Record<string, unknown>,
  ): Promise<{
    toRow: (row: Row, ctx: ReadContext) => Promise<unknown>;
    columns: Array<{ header: string; value: (row: never) => unknown }>;
    auditDetails: Record<string, unknown>;
  } | null>;
}

/** How an export's CSV cells are written (see ExtraExportFormat.csv). */
export type CsvStyle = 'literal' | 'dump';

/** An export format of a resource beyond csv and json (ResourceSpec.exportFormats). */
export interface ExtraExportFormat<Row> {
  /** The body: a JSON array of the rows, or CSV with the columns. */
  body: 'csv' | 'json';
  /** For OpenAPI: what the format is. */
  description: string;
  /**
   * CSV not meant for a spreadsheet, values exactly as they are (no formula defusal):
   * `literal`, cells as text for another program's importer (CRLF, byte-order mark); `dump`,
   * as a database dump writes them (NULL an empty field, an empty string "", LF, no
   * byte-order mark). Unset: defused like the csv format.
   */
  csv?: CsvStyle;
  /** The row shape and columns for this request; may refuse (throw); adds to the audit. */
  exporter(
    request: FastifyRequest,
    query: Record<string, unknown>,
  ): Promise<{
    toRow: (row: Row, ctx: ReadContext) => Promise<unknown>;
    columns: Array<{ header: string; value: (row: never) => unknown }>;
    auditDetails: Record<string, unknown>;
  }>;
}
