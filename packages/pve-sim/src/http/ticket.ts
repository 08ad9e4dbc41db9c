import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/** A user who may log in with `POST /access/ticket`. */
export interface SimUser {
  /** `USER@REALM`, e.g. `root@pam`. */
  username: string;
  password: string;
}

/** What `POST /access/ticket` answers. */
export interface TicketAnswer {
  username: string;
  ticket: string;
  CSRFPreventionToken: string;
}

/** Proxmox accepts tickets issued up to 5 min in the future (clock skew between nodes). */
const FUTURE_SKEW_MS = 300_000;

function same(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/**
 * Login tickets and CSRF prevention tokens in Proxmox's shapes:
 * `PVE:USER@REALM:HEXTIME::SIGNATURE` (the `PVEAuthCookie`) and `HEXTIME:SIGNATURE`
 * (the `CSRFPreventionToken` header). Proxmox signs tickets with the cluster's RSA key; the
 * simulator uses an HMAC with a key made at start, which clients cannot tell apart: for them
 * both are opaque strings. Both expire after `lifetimeMs()` (Proxmox: 2 h).
 */
export class TicketIssuer {
  private readonly key = randomBytes(32);

  constructor(
    private readonly user: SimUser,
    private readonly clock: () => number,
    private readonly lifetimeMs: () => number,
  ) {}

  private sign(kind: string, data: string): string {
    return createHmac('sha256', this.key).update(`${kind}\0${data}`).digest('base64');
  }

  /** `username` as `USER@REALM` (or `USER` with `realm`) and the password, or a valid ticket. */
  login(username: string, password: string, realm?: string): TicketAnswer | null {
    const full = realm && !username.includes('@') ? `${username}@${realm}` : username;
    if (!same(full, this.user.username)) return null;
    const renewing = this.verifyTicket(password) === full;
    if (!renewing && !same(password, this.user.password)) return null;
    return this.issue(full);
  }

  issue(username: string): TicketAnswer {
    const time = Math.floor(this.clock() / 1000)
      .toString(16)
      .toUpperCase();
    const data = `PVE:${username}:${time}`;
    const csrf = `${time}:${this.sign('csrf', `${time}:${username}`)}`;
    return {
      username,
      ticket: `${data}::${this.sign('ticket', data)}`,
      CSRFPreventionToken: csrf,
    };
  }

  private fresh(hexTime: string): boolean {
    if (!/^[0-9A-F]{8,}$/.test(hexTime)) return false;
    const age = this.clock() - Number.parseInt(hexTime, 16) * 1000;
    return age >= -FUTURE_SKEW_MS && age < this.lifetimeMs();
  }

  /** The ticket's user when it is genuine and not expired, else null. */
  verifyTicket(ticket: string): string | null {
    const m = /^(PVE:([^:\s]+@[^:\s]+):([0-9A-F]+))::([A-Za-z0-9+/=]+)$/.exec(ticket);
    if (!m) return null;
    const [, data, username, time, signature] = m as unknown as [
      string,
      string,
      string,
      string,
      string,
    ];
    if (!same(signature, this.sign('ticket', data)) || !this.fresh(time)) return null;
    return username;
  }

  /** Whether the CSRF prevention token belongs to the user and has not expired. */
  verifyCsrf(token: string | undefined, username: string): boolean {
    const m = /^([0-9A-F]+):([A-Za-z0-9+/=]+)$/.exec(token ?? '');
    if (!m) return false;
    const [, time, signature] = m as unknown as [string, string, string];
    return same(signature, this.sign('csrf', `${time}:${username}`)) && this.fresh(time);
  }
}

/** The `PVEAuthCookie` value of a `Cookie` header (URL-decoded), if any. */
export function authCookie(header: string | undefined): string | undefined {
  for (const part of (header ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1 || part.slice(0, eq).trim() !== 'PVEAuthCookie') continue;
    const raw = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(raw);
    } catch {
      return raw;
    }
  }
  return undefined;
}
