import { SimInputError } from '../errors.js';
import type { GuestStatus, SimGuest } from '../model.js';
import type { Prng } from '../prng.js';

export interface DriftSettings {
  /** Interval between drift steps; 0 stops drifting. */
  everyMs: number;
  /** Fraction (0–1) of eligible guests whose status flips at each step. */
  fraction: number;
}

export interface DriftHooks {
  prng: Prng;
  /** Guests whose status may change: not templates, not locked, on an online node. */
  eligible: () => SimGuest[];
  setStatus: (guest: SimGuest, status: GuestStatus) => void;
}

/** Periodic status changes so that a demo cluster looks alive. */
export class Drift {
  private timer: NodeJS.Timeout | undefined;
  private current: DriftSettings = { everyMs: 0, fraction: 0 };

  constructor(private readonly hooks: DriftHooks) {}

  get settings(): Readonly<DriftSettings> {
    return this.current;
  }

  start(settings: DriftSettings): void {
    if (!Number.isFinite(settings.everyMs) || settings.everyMs < 0) {
      throw new SimInputError(400, 'every_ms must be 0 (off) or a positive number');
    }
    if (settings.everyMs > 0 && settings.everyMs < 50)
      throw new SimInputError(400, 'every_ms must be at least 50');
    if (!Number.isFinite(settings.fraction) || settings.fraction < 0 || settings.fraction > 1) {
      throw new SimInputError(400, 'fraction must be between 0 and 1');
    }
    this.stop();
    this.current = { ...settings };
    if (settings.everyMs > 0) {
      this.timer = setInterval(() => this.step(settings.fraction), settings.everyMs);
      this.timer.unref();
    }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.current = { everyMs: 0, fraction: this.current.fraction };
  }

  /** One drift step: running (in any run state) → stopped, stopped → running. Returns changed VMIDs. */
  step(fraction: number): number[] {
    if (!Number.isFinite(fraction) || fraction < 0 || fraction > 1) {
      throw new SimInputError(400, 'fraction must be between 0 and 1');
    }
    const pool = this.hooks.eligible();
    const count = Math.min(
      pool.length,
      fraction > 0 ? Math.max(1, Math.round(pool.length * fraction)) : 0,
    );
    const changed: number[] = [];
    for (let i = 0; i < count; i++) {
      const j = this.hooks.prng.int(i, pool.length - 1);
      const guest = pool[j] as SimGuest;
      pool[j] = pool[i] as SimGuest;
      pool[i] = guest;
      this.hooks.setStatus(guest, guest.status === 'running' ? 'stopped' : 'running');
      changed.push(guest.vmid);
    }
    return changed;
  }
}
