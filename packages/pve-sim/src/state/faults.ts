import { SimInputError } from '../errors.js';
import { createPrng, type Prng } from '../prng.js';

/** Injected failures. Every field is optional when setting; unset fields keep their value. */
export interface FaultSettings {
  /** Close every API connection without an answer (Proxmox unreachable). */
  down: boolean;
  /** Delay before every API answer. */
  latencyMs: number;
  /** Fraction (0–1) of API requests that fail with `errorStatus`. */
  errorRate: number;
  errorStatus: number;
  /** Every guest-agent call times out (`… got timeout` after agentTimeoutMs). */
  guestAgentTimeout: boolean;
  /** Every API request answers this status: 401, 403, 500, 595, 596, … (null: off). */
  status: number | null;
  /** Message for `status` (default: what Proxmox says for that status). */
  message: string | null;
  /** /cluster/resources and the guest lists answer [] with 200 (mis-scoped token). */
  empty: boolean;
  /** A reverse proxy answers text/html instead of JSON. */
  html: boolean;
  htmlStatus: number;
  /**
   * Limits down/latency/status/error_rate/html to these endpoint kinds (`qemu-config`) or
   * path prefixes (`/nodes/pve2/`); empty: every API request.
   */
  only: string[];
}

export const NO_FAULTS: Readonly<FaultSettings> = Object.freeze({
  down: false,
  latencyMs: 0,
  errorRate: 0,
  errorStatus: 500,
  guestAgentTimeout: false,
  status: null,
  message: null,
  empty: false,
  html: false,
  htmlStatus: 502,
  only: [],
});

function checkStatus(value: number, field: string): number {
  if (!Number.isInteger(value) || value < 400 || value > 599) {
    throw new SimInputError(400, `${field} must be an HTTP error status (400–599)`);
  }
  return value;
}

function validate(next: FaultSettings): void {
  for (const key of ['down', 'guestAgentTimeout', 'empty', 'html'] as const) {
    if (typeof next[key] !== 'boolean') throw new SimInputError(400, `${key} must be a boolean`);
  }
  if (next.message !== null && typeof next.message !== 'string') {
    throw new SimInputError(400, 'message must be a string or null');
  }
  if (!Number.isFinite(next.latencyMs) || next.latencyMs < 0 || next.latencyMs > 600_000) {
    throw new SimInputError(400, 'latency_ms must be between 0 and 600000');
  }
  if (!Number.isFinite(next.errorRate) || next.errorRate < 0 || next.errorRate > 1) {
    throw new SimInputError(400, 'error_rate must be between 0 and 1');
  }
  checkStatus(next.errorStatus, 'error_status');
  if (next.status !== null) checkStatus(next.status, 'status');
  if (!Number.isInteger(next.htmlStatus) || next.htmlStatus < 100 || next.htmlStatus > 599) {
    throw new SimInputError(400, 'html_status must be an HTTP status');
  }
  if (!Array.isArray(next.only) || next.only.some((o) => typeof o !== 'string' || !o)) {
    throw new SimInputError(400, 'only must be a list of endpoint kinds or path prefixes');
  }
}

export class FaultState {
  private current: FaultSettings = { ...NO_FAULTS, only: [] };
  private readonly prng: Prng;

  constructor(seed: number) {
    this.prng = createPrng(seed ^ 0x0fa017);
  }

  get settings(): Readonly<FaultSettings> {
    return this.current;
  }

  set(changes: Partial<FaultSettings>): Readonly<FaultSettings> {
    const next = { ...this.current };
    for (const [key, value] of Object.entries(changes)) {
      if (value !== undefined) Object.assign(next, { [key]: value });
    }
    validate(next);
    this.current = { ...next, only: [...next.only] };
    return this.current;
  }

  clear(): void {
    this.current = { ...NO_FAULTS, only: [] };
  }

  /** Whether the scoped faults (down, latency, status, error_rate, html) hit this request. */
  applies(kind: string, path: string): boolean {
    const { only } = this.current;
    return (
      only.length === 0 || only.some((o) => o === kind || (o.startsWith('/') && path.startsWith(o)))
    );
  }

  /** Draws whether this request fails under error_rate (seeded, so runs repeat). */
  rollError(): boolean {
    return this.current.errorRate > 0 && this.prng.next() < this.current.errorRate;
  }
}
