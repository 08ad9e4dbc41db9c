import { type TSchema, Type } from 'typebox';
import { ValidationError } from '../errors.js';

/** Schemas and normalisers shared by every resource's fields. */

export const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

export const Tags = Type.Array(Type.String({ minLength: 1, maxLength: 64 }), {
  maxItems: 50,
  description: 'Free labels; trimmed, duplicates dropped (case-insensitive)',
  examples: [['prime', 'eu']],
});

export const Notes = Type.String({ maxLength: 20_000, description: 'Free text, yours only' });

export const Timestamp = Type.String({ format: 'date-time' });

export const UuidString = Type.String({ format: 'uuid' });

/** Trims, drops empty and case-insensitive duplicates, keeps the first spelling. */
export function normalizeTags(tags: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of tags) {
    const tag = raw.trim();
    if (!tag || seen.has(tag.toLowerCase())) continue;
    seen.add(tag.toLowerCase());
    out.push(tag);
  }
  return out;
}

/** AA:BB:CC:DD:EE:FF from any common spelling (dashes, dots, none, lower case). */
export function normalizeMac(value: string, path: string): string {
  const hex = value.replace(/[\s:.-]/g, '');
  if (!/^[0-9a-fA-F]{12}$/.test(hex)) {
    throw new ValidationError([{ path, message: 'is not a MAC address (like AA:BB:CC:DD:EE:FF)' }]);
  }
  return hex.toUpperCase().match(/../g)?.join(':') ?? hex;
}

/** Lower-case UUID from any common spelling ({braces}, upper case, no dashes). */
export function normalizeUuid(value: string, path: string): string {
  const hex = value.replace(/[{}\s-]/g, '').toLowerCase();
  if (!/^[0-9a-f]{32}$/.test(hex)) {
    throw new ValidationError([{ path, message: 'is not a UUID' }]);
  }
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export const LooseMac = Type.String({
  minLength: 12,
  maxLength: 17,
  description: 'MAC address in any common spelling; stored as AA:BB:CC:DD:EE:FF',
  examples: ['BC:24:11:5E:0A:01'],
});

export const LooseUuid = Type.String({
  minLength: 32,
  maxLength: 38,
  description: 'UUID, with or without braces; stored lower-case',
  examples: ['4c4c4544-0042-3510-8052-b4c04f4e4d32'],
});

export const iso = (d: Date | null | undefined): string | null => (d ? d.toISOString() : null);
