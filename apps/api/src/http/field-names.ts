import type { FieldError } from './errors.js';

/**
 * The names a user's file gives AccountDB's fields. A record read in one of the earlier
 * AccountDB's formats (or from a Steam Guard file) is checked as an AccountDB body, so a
 * check's error names AccountDB's field (`username is required`); an import answers it under
 * the file's own name (`user.username is required`, `acc_username is required`), the form of
 * every per-row error of those formats: the file's name for the field, then what is wrong,
 * never the value.
 *
 * Keys are AccountDB paths below the body, `/`-separated (`username`, `steam_guard/uri`); a
 * key ending in `/*` names everything below it: a value ending in `.` (or empty) is the prefix the rest of
 * the path follows, `.`-joined (`'steam_guard/*': 'steamguard.'` names `steam_guard/token_gid`
 * `steamguard.token_gid`), any other value is the name of all of it (`'tags/*': 'metadata.tags'`).
 */
export type FieldNames = Readonly<Record<string, string>>;

/** The path of a field error below the body of a record (`/body/items/3/x/y` → `x/y`). */
export const bodyPath = (path: string): string =>
  path.replace(/^\/body\/items\/\d+\/?|^\/body\/?/, '');

/** The file's name for an AccountDB path, or the path as it is when the file has none. */
export function fileFieldName(path: string, names: FieldNames | undefined): string {
  if (!names) return path;
  const exact = names[path];
  if (exact !== undefined) return exact;
  const parts = path.split('/');
  for (let n = parts.length - 1; n >= 1; n--) {
    const prefix = names[`${parts.slice(0, n).join('/')}/*`];
    if (prefix !== undefined)
      return prefix === '' || prefix.endsWith('.')
        ? `${prefix}${parts.slice(n).join('.')}`
        : prefix;
  }
  return path;
}

/** Field errors of one record as its row's message, each under the file's field name. */
export function rowMessage(errors: readonly FieldError[], names?: FieldNames): string {
  return errors
    .map((e) => `${fileFieldName(bodyPath(e.path), names) || 'record'} ${e.message}`)
    .join('; ');
}
