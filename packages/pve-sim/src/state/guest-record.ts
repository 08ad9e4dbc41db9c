import { deriveGuest } from '../config/derive.js';
import type { SimGuest } from '../model.js';

export type GuestInit = Omit<SimGuest, 'derived' | 'digest'>;

export function createGuest(init: GuestInit): SimGuest {
  return { ...init, derived: deriveGuest(init.type, init.config), digest: undefined };
}

/** Recomputes the cached values after the config changed (the digest is recomputed lazily). */
export function refreshGuest(guest: SimGuest): void {
  guest.derived = deriveGuest(guest.type, guest.config);
  guest.digest = undefined;
}

/** Sets (or, with undefined, removes) one config key; true when the config changed. */
export function setConfigValue(guest: SimGuest, key: string, value: string | undefined): boolean {
  if (guest.config[key] === value) return false;
  if (value === undefined) delete guest.config[key];
  else guest.config[key] = value;
  refreshGuest(guest);
  return true;
}
