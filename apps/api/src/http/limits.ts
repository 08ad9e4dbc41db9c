import { LimitExceededError } from './errors.js';

/**
 * Every limit on the work one request may ask for, in one place (docs/api.md#limits lists
 * them with the answer each one gives). A request over a limit is refused with a 4xx before
 * it writes anything; none of them can make the API run out of memory or stall other users.
 */

export const KiB = 1024;
export const MiB = 1024 * KiB;

/** Nesting and size of one JSON document, checked on its text before it is parsed. */
export interface JsonLimits {
  /** Deepest nesting of objects and arrays. */
  depth: number;
  /** Objects and arrays in the document (what a JSON parser allocates most for). */
  containers: number;
}

export const LIMITS = {
  /** A JSON body of any route that sets no other byte limit. */
  bodyBytes: 1 * MiB,
  /** Every JSON body, whatever its route (answers 400 json_too_deep / json_too_complex). */
  json: { depth: 64, containers: 200_000 } satisfies JsonLimits,
  /** POST /{r}/bulk and POST /{r}/bulk-delete. */
  bulk: { bytes: 16 * MiB, items: 10_000 },
  /** POST /accounts/import, POST /cards/import and POST /hardware/import. */
  import: {
    bytes: 16 * MiB,
    records: 20_000,
    /** Errors listed in the answer; the rest are counted in errors_total. */
    errors: 100,
    /** One record of a JSON or JSON lines upload. */
    recordJson: { depth: 64, containers: 10_000 } satisfies JsonLimits,
    /** Fields of one CSV record. */
    csvFields: 1_000,
  },
  /**
   * POST /accounts/import/mafiles: files of one request (an encrypted one costs 50,000 PBKDF2
   * rounds) and the size of one file (a .maFile is a few KiB).
   */
  maFiles: { files: 500, fileBytes: 64 * KiB },
  /** POST /agent/sync. */
  sync: { bytes: 16 * MiB, vms: 20_000 },
  /** Free-form JSON fields: accounts' attributes and steam_guard. */
  freeJson: { depth: 32, bytes: 16 * KiB },
  /** What of a refused body is still read (and thrown away) after the answer, and how long. */
  linger: { bytes: 64 * MiB, ms: 10_000 },
  /** Heavy requests (imports, bulk, bulk delete, export, agent sync) running at once. */
  heavy: {
    /** Per user (a personal token counts as its owner), in one API process. */
    perUser: 2,
    /** Agent syncs per node owner, in one API process. */
    syncsPerOwner: 2,
    retryAfterSeconds: 2,
  },
  /** GET /events: live update streams. */
  events: {
    /** Open streams per user (a personal token counts as its owner), in one API process. */
    streamsPerUser: 5,
    /** Open streams in one API process, all users together. */
    streams: 1_000,
    /** A comment line this often, so that proxies keep an idle stream open. */
    heartbeatMs: 15_000,
    /** A client that has this much unread behind it is dropped (it reconnects and refetches). */
    backlogBytes: 64 * KiB,
    /**
     * A stream ends after this long and the client reconnects: its caller is authenticated
     * again, so a logout, deactivation or role change reaches open streams within this time.
     */
    maxStreamMs: 5 * 60_000,
  },
} as const;

/** "16 MiB", "1 MiB", "16 KiB": a byte count as the docs write it. */
export function formatBytes(bytes: number): string {
  if (bytes % MiB === 0) return `${bytes / MiB} MiB`;
  if (bytes % KiB === 0) return `${bytes / KiB} KiB`;
  return `${bytes} bytes`;
}

/** 50000 → "50,000". */
export const formatCount = (n: number): string => n.toLocaleString('en-US');

/** The answers to a request over a limit: 400 with a stable code and the limit named. */
export const limitErrors = {
  tooDeep: (limit: number, what = 'The JSON') =>
    new LimitExceededError('json_too_deep', `${what} is nested deeper than ${limit} levels.`),
  tooComplex: (limit: number, what = 'The JSON') =>
    new LimitExceededError(
      'json_too_complex',
      `${what} holds more than ${formatCount(limit)} objects and arrays.`,
    ),
  tooManyRecords: (limit: number, what = 'The upload') =>
    new LimitExceededError(
      'too_many_records',
      `${what} has more than ${formatCount(limit)} records; split it (accountdb import does).`,
    ),
  tooManyFields: (limit: number, line: number) =>
    new LimitExceededError(
      'too_many_fields',
      `The CSV record on line ${line} has more than ${formatCount(limit)} fields.`,
    ),
};
