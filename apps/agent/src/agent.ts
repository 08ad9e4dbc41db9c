import { AccountDbClient } from './accountdb/client.js';
import type { AgentSettings } from './config.js';
import type { Logger } from './log.js';
import { agentMetrics, type Metrics } from './metrics.js';
import { accountdbDispatcher, pveDispatcher } from './net/tls.js';
import { PveClient } from './pve/client.js';
import type { AgentState, StateFile } from './state.js';
import { Backoff, type BackoffOptions, DEFAULT_BACKOFF } from './sync/backoff.js';
import {
  type CycleOptions,
  type CycleOutcome,
  type EngineTuning,
  SyncEngine,
} from './sync/engine.js';
import { AGENT_VERSION } from './version.js';

/**
 * The daemon around the sync engine: the loop with its interval, exponential backoff with
 * full jitter while AccountDB is unreachable (then a fresh complete sync), the state shown on
 * /healthz and in the state file, and a clean stop.
 */

export interface AgentOptions {
  settings: AgentSettings;
  log: Logger;
  metrics?: Metrics;
  stateFile?: StateFile | undefined;
  /** For tests. */
  tuning?: Partial<EngineTuning>;
  backoff?: BackoffOptions;
  random?: () => number;
  /** Overrides the interval (tests); else AccountDB's interval_s, else SYNC_INTERVAL. */
  intervalMs?: number;
  pveTimeoutMs?: number;
  /** Clock of the engine's caches (tests). */
  now?: () => number;
  /** The loop's wait between cycles (tests simulate long outages without waiting). */
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  /** How often the wait between cycles polls AccountDB's config for "Sync now" (default 10 s). */
  configPollMs?: number;
}

/** Between cycles, AccountDB's config is polled this often for a "Sync now". */
export const CONFIG_POLL_MS = 10_000;

export class Agent {
  readonly metrics: Metrics;
  readonly engine: SyncEngine;
  readonly state: AgentState;
  private readonly backoff: Backoff;
  private readonly closers: (() => Promise<void>)[] = [];

  constructor(private readonly options: AgentOptions) {
    const { settings } = options;
    this.metrics = options.metrics ?? agentMetrics();
    const pveHttp = pveDispatcher(settings.pveTls);
    const adbHttp = accountdbDispatcher(settings.accountdbCa);
    this.closers.push(
      () => pveHttp.close(),
      () => adbHttp.close(),
    );
    if (settings.pveTls.mode === 'insecure') {
      options.log.warn(
        'PVE_INSECURE=true: the Proxmox certificate is NOT verified for this connection; prefer PVE_CA_FILE or PVE_FINGERPRINT',
      );
    }
    const pve = new PveClient({
      baseUrl: settings.pveUrl,
      tokenId: settings.pveTokenId,
      tokenSecret: settings.pveTokenSecret,
      dispatcher: pveHttp,
      timeoutMs: options.pveTimeoutMs ?? 15_000,
      metrics: this.metrics,
    });
    const accountdb = new AccountDbClient({
      baseUrl: settings.accountdbUrl,
      nodeKey: settings.nodeKey,
      dispatcher: adbHttp,
      metrics: this.metrics,
      userAgent: `accountdb-agent/${AGENT_VERSION}`,
    });
    const previous = options.stateFile?.read();
    this.state = {
      version: AGENT_VERSION,
      pid: process.pid,
      status: 'starting',
      node: settings.pveNode,
      pve_version: undefined,
      interval_s: settings.syncIntervalS,
      updated_at: new Date().toISOString(),
      last_cycle_at: undefined,
      last_success_at: previous?.last_success_at,
      last_outcome: undefined,
      last_error: undefined,
      consecutive_failures: 0,
      guests: undefined,
      baseline_guests:
        typeof previous?.baseline_guests === 'number' ? previous.baseline_guests : undefined,
      last_result: undefined,
      next_cycle_at: undefined,
      guest_agent: { denied: false, message: undefined },
    };
    const stateFile = options.stateFile;
    this.engine = new SyncEngine({
      pve,
      accountdb,
      log: options.log,
      metrics: this.metrics,
      agentVersion: AGENT_VERSION,
      pveNode: settings.pveNode,
      tuning: options.tuning,
      ...(options.now ? { now: options.now } : {}),
      baseline: {
        // The file wins: `once --accept-drop` run beside the daemon resets the reference.
        get: () => {
          const fromFile = stateFile?.read()?.baseline_guests;
          return typeof fromFile === 'number' ? fromFile : this.state.baseline_guests;
        },
        set: (n) => {
          this.state.baseline_guests = n;
        },
      },
    });
    this.backoff = new Backoff(options.backoff ?? DEFAULT_BACKOFF, options.random);
  }

  /** Seconds between cycles: AccountDB's interval_s, else SYNC_INTERVAL. */
  intervalMs(): number {
    if (this.options.intervalMs !== undefined) return this.options.intervalMs;
    return (this.engine.agentConfig?.interval_s ?? this.options.settings.syncIntervalS) * 1000;
  }

  /** Runs one cycle and records its outcome (state, metrics, logs, state file). */
  async cycle(opts: CycleOptions = {}): Promise<CycleOutcome> {
    const outcome = await this.engine.cycle(opts);
    this.record(outcome);
    return outcome;
  }

  private record(outcome: CycleOutcome): void {
    const { log, metrics } = { log: this.options.log, metrics: this.metrics };
    if (outcome.kind === 'aborted') return;
    const now = new Date();
    const s = this.state;
    s.last_cycle_at = now.toISOString();
    s.last_outcome = outcome.kind;
    s.node = this.engine.node ?? s.node;
    s.pve_version = this.engine.pveVersion ?? s.pve_version;
    s.interval_s = Math.round(this.intervalMs() / 1000);
    const addr = this.engine.addressReads;
    s.guest_agent = { denied: addr.denied, message: addr.denied ? addr.deniedMessage : undefined };
    metrics.inc('accountdb_agent_cycles_total', { outcome: outcome.kind });
    if (outcome.kind === 'synced') {
      s.status = 'ok';
      s.last_success_at = now.toISOString();
      s.last_error = undefined;
      s.consecutive_failures = 0;
      s.guests = outcome.stats.guests;
      s.last_result = { ...outcome.result, ...outcome.stats };
      metrics.set(
        'accountdb_agent_last_success_timestamp_seconds',
        Math.floor(now.getTime() / 1000),
      );
      metrics.set('accountdb_agent_sync_duration_seconds', outcome.stats.durationMs / 1000);
      log.info({ cycle_id: outcome.cycleId, ...outcome.result, ...outcome.stats }, 'synced');
    } else {
      s.status = 'error';
      s.consecutive_failures++;
      s.last_error = outcome.kind === 'pve_error' ? outcome.message : outcome.error.message;
      if (outcome.kind !== 'pve_error')
        log.warn({ outcome: outcome.kind, status: outcome.error.status }, outcome.error.message);
    }
    this.persist();
  }

  private persist(): void {
    this.state.updated_at = new Date().toISOString();
    if (!this.options.stateFile) return;
    try {
      this.options.stateFile.write(this.state);
    } catch (err) {
      this.options.log.warn(
        { err: (err as Error).message, path: this.options.stateFile.path },
        'cannot write the state file',
      );
    }
  }

  /** The wait after an outcome: the interval, or the backoff while AccountDB is unreachable. */
  nextDelayMs(outcome: CycleOutcome): number {
    const interval = this.intervalMs();
    switch (outcome.kind) {
      case 'synced':
        this.backoff.reset();
        // New guests still wait for their config (listing first): the next cycle now.
        if (outcome.stats.detailBacklog > 0) return 1_000;
        return Math.max(1_000, interval - outcome.stats.durationMs);
      case 'accountdb_unavailable':
        return this.backoff.next(outcome.error.retryAfterMs);
      case 'accountdb_error':
        return outcome.error.kind === 'auth' ? Math.max(this.backoff.next(), 1_000) : interval;
      case 'pve_error':
        if (outcome.heartbeat === 'failed') return this.backoff.next();
        this.backoff.reset();
        return interval;
      default:
        return interval;
    }
  }

  /** /healthz: healthy while the last success is recent (3 intervals, at least 3 minutes). */
  health(): { healthy: boolean; body: AgentState & { healthy: boolean } } {
    const last = this.state.last_success_at ? Date.parse(this.state.last_success_at) : undefined;
    const window = Math.max(3 * this.intervalMs(), 180_000);
    const healthy = this.state.status === 'ok' && last !== undefined && Date.now() - last <= window;
    return { healthy, body: { ...this.state, healthy } };
  }

  /**
   * The loop of `run`. `stop` ends it after the current cycle; `abort` also cancels the
   * cycle's requests (the CLI fires it when the current cycle outlives the stop grace time).
   */
  async run(stop: AbortSignal, abort: AbortSignal = stop): Promise<void> {
    const wait = this.options.sleep ?? sleep;
    this.persist();
    while (!stop.aborted) {
      let outcome: CycleOutcome;
      try {
        outcome = await this.cycle({ signal: abort });
      } catch (err) {
        // A bug, not an expected failure: log it and keep the daemon alive.
        this.options.log.error({ err }, 'cycle failed unexpectedly');
        this.state.status = 'error';
        this.state.last_error = `internal error: ${(err as Error).message}`;
        this.state.consecutive_failures++;
        this.metrics.inc('accountdb_agent_cycles_total', { outcome: 'internal_error' });
        this.persist();
        await wait(this.intervalMs(), stop);
        continue;
      }
      if (stop.aborted) break;
      const delay = this.nextDelayMs(outcome);
      this.metrics.set(
        'accountdb_agent_backoff_seconds',
        outcome.kind === 'accountdb_unavailable' ? delay / 1000 : 0,
      );
      if (outcome.kind === 'accountdb_unavailable') {
        this.options.log.warn(
          { retry_in_ms: delay, attempt: this.backoff.attempt },
          'AccountDB unreachable; backing off, then a fresh full sync',
        );
      }
      this.state.next_cycle_at = new Date(Date.now() + delay).toISOString();
      if (outcome.kind === 'accountdb_unavailable') await wait(delay, stop);
      else await this.waitOrSyncNow(delay, stop);
    }
    this.state.next_cycle_at = undefined;
    this.persist();
  }

  /**
   * Waits `delay` between cycles, polling AccountDB's config meanwhile; a "Sync now" ends the
   * wait early. (Counts the time waited rather than reading the clock, so tests' fake sleep
   * works too.)
   */
  private async waitOrSyncNow(delay: number, stop: AbortSignal): Promise<void> {
    const wait = this.options.sleep ?? sleep;
    const poll = this.options.configPollMs ?? CONFIG_POLL_MS;
    let left = delay;
    while (left > 0 && !stop.aborted) {
      const step = Math.min(left, poll);
      await wait(step, stop);
      left -= step;
      if (left <= 0 || stop.aborted) return;
      if (await this.engine.syncRequested(stop)) {
        this.options.log.info('AccountDB asked for a sync now');
        return;
      }
    }
  }

  async close(): Promise<void> {
    for (const close of this.closers.splice(0)) await close().catch(() => undefined);
  }
}

export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) {
      resolve();
      return;
    }
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}
