import sjson from 'secure-json-parse';
import { checkJson } from './json-splitter.js';
import { type JsonLimits, LIMITS } from './limits.js';

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

/**
 * JSON.parse with the nesting and size limits checked on the text first (so no parser or
 * encoder later meets a value deep enough to overflow its stack), prototype-poisoning
 * protection, and optionally big integers kept as strings. Throws a 4xx AppError over a
 * limit, a SyntaxError for text that is not JSON.
 */
export function parseJson(
  text: string,
  options: { bigIntegers?: boolean; limits?: JsonLimits; what?: string } = {},
): unknown {
  checkJson(text, options.limits ?? LIMITS.json, options.what);
  return sjson.parse(options.bigIntegers ? quoteBigIntegers(text) : text, undefined, {
    protoAction: 'error',
    constructorAction: 'error',
  });
}
