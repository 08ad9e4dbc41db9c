import sjson from 'secure-json-parse';

/**
 * Integer literals longer than 15 digits (SteamID64s and other 64-bit ids) turned into
 * strings before parsing, so they keep every digit instead of rounding to a double.
 * Strings and non-integer numbers are left as they are.
 */
export function quoteBigIntegers(text: string): string {
  let out = '';
  let i = 0;
  let last = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === '"') {
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      i++;
      continue;
    }
    if (c === '-' || (c !== undefined && c >= '0' && c <= '9')) {
      const start = i;
      i++;
      while (i < text.length && /[0-9eE.+-]/.test(text[i] ?? '')) i++;
      const token = text.slice(start, i);
      if (/^-?\d{16,}$/.test(token)) {
        out += `${text.slice(last, start)}"${token}"`;
        last = i;
      }
      continue;
    }
    i++;
  }
  return out + text.slice(last);
}

/** JSON.parse with prototype-poisoning protection and big integers kept as strings. */
export function parseJsonKeepingBigIntegers(text: string): unknown {
  return sjson.parse(quoteBigIntegers(text), undefined, {
    protoAction: 'error',
    constructorAction: 'error',
  });
}
