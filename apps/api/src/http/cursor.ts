import { BadRequestError } from './errors.js';

type Kind = 'string' | 'number';

/** Keyset cursors: the sort values of the last row of a page, opaque to clients. */
export function encodeCursor(values: Array<string | number>): string {
  return Buffer.from(JSON.stringify(values), 'utf8').toString('base64url');
}

export function decodeCursor<K extends Kind[]>(
  cursor: string,
  kinds: [...K],
): { [I in keyof K]: K[I] extends 'number' ? number : string } {
  let values: unknown;
  try {
    values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    values = null;
  }
  if (
    !Array.isArray(values) ||
    values.length !== kinds.length ||
    values.some((v, i) => typeof v !== kinds[i])
  ) {
    throw new BadRequestError(
      'The cursor is not valid; start again without it.',
      'invalid_cursor',
      [{ path: '/querystring/cursor', message: 'is not a cursor this list issued' }],
    );
  }
  return values as never;
}
