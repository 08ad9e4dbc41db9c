import type { LockoutPolicy } from './definer-functions.js';
import { DEFAULT_LOCKOUT } from './login.js';

/** Brute-force limits on login and the other unauthenticated auth endpoints. */
export interface AuthLimits {
  /** Login attempts per client IP per minute. */
  loginPerIp: number;
  /** Login attempts per attempted name (known or not) per minute, from any IP. */
  loginPerName: number;
  /**
   * Refresh calls per client IP per minute. Apart from the login limit: a refresh needs a
   * valid 256-bit token, so this only stops floods, and every page load of the web UI (each
   * tab, each reload) refreshes once.
   */
  refreshPerIp: number;
  /** Consecutive failures before a name is locked, and the backoff. */
  lockout: LockoutPolicy;
}

export const DEFAULT_AUTH_LIMITS: AuthLimits = {
  loginPerIp: 20,
  loginPerName: 10,
  refreshPerIp: 300,
  lockout: DEFAULT_LOCKOUT,
};
