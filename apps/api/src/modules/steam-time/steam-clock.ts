import type { CodeClock } from '../accounts/totp.js';
import { type QueryTimeOptions, queryServerTime, SteamTimeError } from './query-time.js';

/**
 * Steam's clock for Steam Guard codes: the offset (Steam's time − the local clock) learned
 * from a time source, asked at start (without holding the start up) and then hourly. When
 * the source is off, not asked yet or failing, codes use the local clock (offset 0); a
 * change of state is logged once (warn on failure, info on recovery), not every attempt.
 */

export const STEAM_TIME_REFRESH_MS = 60 * 60 * 1000;
/** After a failed attempt the next one comes sooner than the hourly refresh. */
export const STEAM_TIME_RETRY_MS = 5 * 60 * 1000;

export interface SteamClockStatus {
  enabled: boolean;
  source: 'steam' | 'local';
  offset_s: number;
  checked_at: string | null;
  warning?: string;
}

export interface ClockLog {
  info(obj: object, msg: string): void;
  warn(obj: object, msg: string): void;
}

export interface SteamClockOptions {
  /** The source (ACCOUNTDB_STEAM_TIME_URL); undefined: off, codes use the local clock. */
  url: string | undefined;
  log: ClockLog;
  refreshMs?: number;
  retryMs?: number;
  /** Bounds of one question (tests narrow them). */
  query?: Omit<QueryTimeOptions, 'url' | 'signal' | 'now'>;
  /** The local clock (ms); tests fix it. */
  now?: () => number;
}

export class SteamClock {
  private readonly url: string | undefined;
  private readonly log: ClockLog;
  private readonly refreshMs: number;
  private readonly retryMs: number;
  private readonly query: Omit<QueryTimeOptions, 'url' | 'signal' | 'now'>;
  private readonly now: () => number;
  private readonly stopper = new AbortController();
  private state: 'unchecked' | 'ok' | 'failed' = 'unchecked';
  private offset = 0;
  private checkedAt: Date | null = null;
  private warning: string | undefined;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private started = false;

  constructor(options: SteamClockOptions) {
    this.url = options.url;
    this.log = options.log;
    this.refreshMs = options.refreshMs ?? STEAM_TIME_REFRESH_MS;
    this.retryMs = Math.min(options.retryMs ?? STEAM_TIME_RETRY_MS, this.refreshMs);
    this.query = options.query ?? {};
    this.now = options.now ?? Date.now;
  }

  /** Asks the source now (in the background) and then on schedule; no-op when off. */
  start(): void {
    if (this.url === undefined || this.started || this.stopper.signal.aborted) return;
    this.started = true;
    void this.cycle();
  }

  /** Stops the schedule and aborts a question in flight; the clock stays as it was. */
  stop(): void {
    this.stopper.abort();
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** One question to the source (joined when one is already in flight). */
  refresh(): Promise<void> {
    if (this.url === undefined || this.stopper.signal.aborted) return Promise.resolve();
    this.inFlight ??= this.check(this.url).finally(() => {
      this.inFlight = undefined;
    });
    return this.inFlight;
  }

  /** Seconds Steam codes add to the local clock: 0 unless the source answered last time. */
  offsetS(): number {
    return this.state === 'ok' ? this.offset : 0;
  }

  /** The time a code is made at: the local clock now, and Steam's offset from it. */
  codeClock(): Required<CodeClock> {
    return { nowMs: this.now(), steamOffsetS: this.offsetS() };
  }

  status(): SteamClockStatus {
    return {
      enabled: this.url !== undefined,
      source: this.state === 'ok' ? 'steam' : 'local',
      offset_s: this.offsetS(),
      checked_at: this.checkedAt?.toISOString() ?? null,
      ...(this.warning === undefined ? {} : { warning: this.warning }),
    };
  }

  private async cycle(): Promise<void> {
    await this.refresh();
    if (this.stopper.signal.aborted) return;
    this.timer = setTimeout(
      () => void this.cycle(),
      this.state === 'ok' ? this.refreshMs : this.retryMs,
    );
    this.timer.unref();
  }

  private async check(url: string): Promise<void> {
    try {
      const answer = await queryServerTime({
        ...this.query,
        url,
        signal: this.stopper.signal,
        now: this.now,
      });
      if (this.stopper.signal.aborted) return;
      const changed = this.state !== 'ok';
      this.offset = answer.offsetS;
      this.warning = undefined;
      this.state = 'ok';
      if (changed) {
        this.log.info(
          { steam_time_url: url, offset_s: answer.offsetS },
          `Steam time source answers: Steam Guard codes use its clock (offset ${answer.offsetS} s)`,
        );
      }
    } catch (err) {
      if (this.stopper.signal.aborted) return;
      const reason = err instanceof SteamTimeError ? err.message : 'could not be asked';
      this.warning = `The Steam time source failed (${reason}); Steam Guard codes use the local clock.`;
      if (this.state !== 'failed') {
        this.log.warn({ steam_time_url: url, reason }, this.warning);
      }
      this.state = 'failed';
      this.offset = 0;
    } finally {
      if (!this.stopper.signal.aborted) this.checkedAt = new Date(this.now());
    }
  }
}
