import { SimInputError } from '../errors.js';

const bad = (message: string) => new SimInputError(400, message);

export const camelize = (key: string) =>
  key.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
export const snakeize = (key: string) => key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

/** The body as an object whose keys are all in `allowed` (snake_case), else 400. */
export function knownFields(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw bad('the body must be a JSON object');
  }
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length) {
    throw bad(`unknown field(s): ${unknown.join(', ')} (allowed: ${allowed.join(', ')})`);
  }
  return body as Record<string, unknown>;
}

/** snake_case body fields → camelCase object (values unchanged, undefined dropped). */
export function camelFields(fields: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) out[camelize(key)] = value;
  }
  return out;
}

/** camelCase object → snake_case keys, for answers. */
export function snakeFields(value: object): Record<string, unknown> {
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [snakeize(k), v]));
}

export function expectBooleans(fields: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of keys) {
    if (fields[key] !== undefined && typeof fields[key] !== 'boolean')
      throw bad(`${key} must be a boolean`);
  }
}

export function expectNumbers(fields: Record<string, unknown>, keys: readonly string[]): void {
  for (const key of keys) {
    if (fields[key] !== undefined && typeof fields[key] !== 'number')
      throw bad(`${key} must be a number`);
  }
}

export function vmidParam(raw: string | undefined): number {
  const vmid = Number(raw);
  if (!Number.isInteger(vmid) || vmid < 1) throw bad(`invalid vmid '${raw}'`);
  return vmid;
}
