import { randomUUID } from 'node:crypto';
import pLimit from 'p-limit';
import { type AccountDbClient, AccountDbError } from '../accountdb/client.js';
import { type AgentConfig, LIMITS, type SyncBody, type SyncResult } from '../accountdb/contract.js';
import type { Logger } from '../log.js';
import type { Metrics } from '../metrics.js';
import type { PveClient } from '../pve/client.js';
import { explainPveError, isCycleFatal, PveError } from '../pve/errors.js';
import { selectIps } from '../pve/ip-select.js';
import { type ClusterStatus, parseClusterStatus, parseVersion } from '../pve/parse-cluster.js';
import { parseGuestConfig } from '../pve/parse-config.js';
import { parseAgentInterfaces, parseLxcInterfaces } from '../pve/parse-interfaces.js';
import { type ListedGuest, parseClusterResources } from '../pve/parse-resources.js';
import { clampText } from '../pve/parse-values.js';
import { buildSyncVm, type CachedGuest, listingKey, newCachedGuest } from './build.js';

/**
 * One sync cycle (DESIGN section 7, PROXMOX.md "Design consequences"):
 *
 *   GET /agent/config (ETag) → GET /cluster/status (node online, quorum) →
 *   one GET /cluster/resources?type=vm → config reads only for new/changed guests and a slow
 *   round-robin refresh (digest compared) → guest addresses for running guests, ≤ 2 at a
 *   time, failures cached with backoff → one POST /agent/sync {complete: true}.
 *
 * Listing first: when the agent starts on a node with more never-read guests than
 * `detailBudget`, its first cycle syncs the listing alone (every guest with its name, status
 * and sizes at once), and the following cycles read the configs and addresses of at most
 * `detailBudget` new guests each, run one after the other (CycleStats.detailBacklog tells the
 * daemon to come back soon) until none is left.
 *
 * Any failed or suspicious Proxmox read stops the cycle before the sync: the agent sends a
 * heartbeat with the error instead, so the server never marks guests absent on doubt.
 */

export interface EngineTuning {
  /** Concurrent config reads. */
  configConcurrency: number;
  /** New guests whose config (and addresses) one cycle reads at most; the rest wait. */
  detailBudget: number;
  /** Concurrent guest-agent / LXC interface reads (PROXMOX.md: at most 2 per node). */
  addressConcurrency: number;
  /** Deadline of one guest-agent call. */
  addressTimeoutMs: number;
  /** Every guest's config is re-read at least this often, spread over the cycles. */
  configRefreshMs: number;
  /** Failure cache for address reads: first wait and cap. */
  addressRetryBaseMs: number;
  addressRetryCapMs: number;
  /** After a 403 on guest-agent reads, how long before trying again. */
  addressDeniedRetryMs: number;
  /** Reads answering no usable address (guest just booted) retried this many times. */
  emptyAddressRetries: number;
  /** /version is re-read this often. */
  versionRefreshMs: number;
  /** A drop below this fraction of the last synced count (from at least `collapseMinGuests`) is suspicious. */
  collapseRatio: number;
  collapseMinGuests: number;
}

export const DEFAULT_TUNING: EngineTuning = {
  configConcurrency: 3,
  detailBudget: 500,
  addressConcurrency: 2,
  addressTimeoutMs: 10_000,
  configRefreshMs: 30 * 60_000,
  addressRetryBaseMs: 60_000,
  addressRetryCapMs: 30 * 60_000,
  addressDeniedRetryMs: 60 * 60_000,
  emptyAddressRetries: 3,
  versionRefreshMs: 60 * 60_000,
  collapseRatio: 0.5,
  collapseMinGuests: 4,
};

export interface BaselineStore {
  /** Guests of the node in the last successful complete sync; undefined = unknown. */
  get(): number | undefined;
  set(count: number): void;
}

export interface EngineOptions {
  pve: PveClient;
  accountdb: AccountDbClient;
  log: Logger;
  metrics: Metrics;
  agentVersion: string;
  /** PVE_NODE; undefined = the AccountDB node's name if it is a cluster node, else the answering node. */
  pveNode?: string | undefined;
  tuning?: Partial<EngineTuning>;
  baseline?: BaselineStore;
  now?: () => number;
  newCycleId?: () => string;
}

export interface CycleStats {
  node: string;
  guests: number;
  inScope: number;
  configReads: number;
  configUnchanged: number;
  configErrors: number;
  addressReads: number;
  addressErrors: number;
  /** Config reads of the slow round-robin refresh (guests unchanged in the listing). */
  refreshReads: number;
  /** Address reads that followed a round-robin config read. */
  refreshAddressReads: number;
  /** Address reads retried after an earlier failed or empty read (round-robin quota). */
  retryReads: number;
  /** New guests whose config is still to be read (listing first); > 0: run again soon. */
  detailBacklog: number;
  durationMs: number;
}

export type CycleOutcome =
  | { kind: 'synced'; cycleId: string; result: SyncResult; stats: CycleStats }
  | { kind: 'pve_error'; error: PveError; message: string; heartbeat: 'sent' | 'failed' }
  | { kind: 'accountdb_unavailable'; error: AccountDbError }
  | { kind: 'accountdb_error'; error: AccountDbError }
  | { kind: 'aborted' };

export interface CycleOptions {
  signal?: AbortSignal | undefined;
  /** Sync even if the guest count collapsed (the operator confirmed the guests are gone). */
  acceptDrop?: boolean;
}

/** The address-read state the health endpoint shows. */
export interface AddressReadState {
  denied: boolean;
  deniedMessage: string | undefined;
  lxcInterfacesSupported: boolean | undefined;
}

class AbortedError extends Error {}

/**
 * Which Proxmox node the agent syncs: PVE_NODE when set; else the AccountDB node's name when
 * it is a node of this cluster; else the node that answered (`local`), or the only node.
 */
export function resolveNodeName(
  status: ClusterStatus,
  pveNode: string | undefined,
  configName: string | undefined,
): string {
  const names = status.nodes.map((n) => n.name);
  if (pveNode) {
    if (!names.includes(pveNode)) {
      throw new PveError(
        'suspicious',
        `PVE_NODE "${pveNode}" is not a node of this cluster (nodes: ${names.join(', ')})`,
      );
    }
    return pveNode;
  }
  if (configName && names.includes(configName)) return configName;
  const local =
    status.nodes.find((n) => n.local) ?? (status.nodes.length === 1 ? status.nodes[0] : undefined);
  if (!local)
    throw new PveError(
      'suspicious',
      `cannot tell which node to sync: set PVE_NODE (nodes: ${names.join(', ')})`,
    );
  return local.name;
}

export class SyncEngine {
  private readonly tuning: EngineTuning;
  private readonly now: () => number;
  private readonly cache = new Map<number, CachedGuest>();
  private config: AgentConfig | undefined;
  private etag: string | undefined;
  private pveVersionValue: string | undefined;
  private versionAt = 0;
  private memoryBaseline: number | undefined;
  private addressDeniedUntil = 0;
  private addressDeniedMessage: string | undefined;
  private lxcInterfaces: boolean | undefined;
  private nodeName: string | undefined;
  private synced = false;
  /** The last "Sync now" a cycle started for: one request runs one cycle. */
  private answeredRequest: string | null = null;

  constructor(private readonly options: EngineOptions) {
    this.tuning = { ...DEFAULT_TUNING, ...options.tuning };
    this.now = options.now ?? Date.now;
  }

  get agentConfig(): AgentConfig | undefined {
    return this.config;
  }

  get pveVersion(): string | undefined {
    return this.pveVersionValue;
  }

  get node(): string | undefined {
    return this.nodeName;
  }

  get cachedGuests(): number {
    return this.cache.size;
  }

  get addressReads(): AddressReadState {
    return {
      denied: this.now() < this.addressDeniedUntil,
      deniedMessage: this.addressDeniedMessage,
      lxcInterfacesSupported: this.lxcInterfaces,
    };
  }

  private baseline(): number | undefined {
    return this.options.baseline?.get() ?? this.memoryBaseline;
  }

  async cycle(opts: CycleOptions = {}): Promise<CycleOutcome> {
    const started = this.now();
    const { signal } = opts;
    const log = this.options.log;
    try {
      const config = await this.refreshConfig(signal);
      // This cycle reads Proxmox after the request was made: it serves it.
      const request = config.sync_requested_at;
      if (request) this.answeredRequest = request;
      let snapshot: Awaited<ReturnType<SyncEngine['readProxmox']>>;
      try {
        snapshot = await this.readProxmox(config, opts);
      } catch (err) {
        if (signal?.aborted) return { kind: 'aborted' };
        if (!(err instanceof PveError)) throw err;
        const message = clampText(explainPveError(err), LIMITS.error);
        log.warn({ kind: err.kind, status: err.status, path: err.path }, message);
        this.options.metrics.inc('accountdb_agent_failures_total', { kind: `pve_${err.kind}` });
        let heartbeat: 'sent' | 'failed' = 'sent';
        try {
          await this.options.accountdb.heartbeat(
            {
              status: 'error',
              error: message,
              agent_version: this.options.agentVersion,
              ...this.versionField(),
            },
            signal,
          );
        } catch (hbErr) {
          heartbeat = 'failed';
          log.warn({ err: (hbErr as Error).message }, 'heartbeat with the Proxmox error failed');
        }
        return { kind: 'pve_error', error: err, message, heartbeat };
      }

      const body: SyncBody = {
        cycle_id: this.options.newCycleId?.() ?? randomUUID(),
        observed_at: new Date(snapshot.observedAt).toISOString(),
        agent_version: this.options.agentVersion,
        ...this.versionField(),
        complete: true,
        vms: snapshot.guests.map((g) => buildSyncVm(g, this.cache.get(g.vmid))),
        ...(request ? { sync_request: request } : {}),
        duration_ms: Math.min(Math.max(0, Math.round(this.now() - started)), 86_400_000),
      };
      const result = await this.options.accountdb.sync(body, signal);
      this.synced = true;
      this.memoryBaseline = snapshot.guests.length;
      this.options.baseline?.set(snapshot.guests.length);
      try {
        await this.options.accountdb.heartbeat(
          { status: 'ok', agent_version: this.options.agentVersion, ...this.versionField() },
          signal,
        );
      } catch (err) {
        log.debug({ err: (err as Error).message }, 'heartbeat after sync failed');
      }
      const stats: CycleStats = { ...snapshot.stats, durationMs: this.now() - started };
      return { kind: 'synced', cycleId: body.cycle_id, result, stats };
    } catch (err) {
      if (signal?.aborted || err instanceof AbortedError) return { kind: 'aborted' };
      if (err instanceof AccountDbError) {
        this.options.metrics.inc('accountdb_agent_failures_total', {
          kind: `accountdb_${err.kind}`,
        });
        if (err.kind === 'rejected' || err.kind === 'bad_response') {
          // AccountDB is up but refused the snapshot: make that visible on the node's page.
          const error = clampText(`sync refused: ${err.message}`, LIMITS.error);
          await this.options.accountdb
            .heartbeat(
              {
                status: 'error',
                error,
                agent_version: this.options.agentVersion,
                ...this.versionField(),
              },
              signal,
            )
            .catch(() => undefined);
        }
        return err.kind === 'unavailable'
          ? { kind: 'accountdb_unavailable', error: err }
          : { kind: 'accountdb_error', error: err };
      }
      throw err;
    }
  }

  /**
   * Polls AccountDB's config (a 304 while nothing changed) between cycles: true when the owner
   * asked for a sync ("Sync now") that no cycle has started for yet. Failures answer false;
   * the next cycle reports them.
   */
  async syncRequested(signal?: AbortSignal): Promise<boolean> {
    try {
      const config = await this.refreshConfig(signal);
      return config.sync_requested_at !== null && config.sync_requested_at !== this.answeredRequest;
    } catch {
      return false;
    }
  }

  private versionField(): { pve_version?: string } {
    return this.pveVersionValue
      ? { pve_version: clampText(this.pveVersionValue, LIMITS.version) }
      : {};
  }

  private async refreshConfig(signal: AbortSignal | undefined): Promise<AgentConfig> {
    const answer = await this.options.accountdb.getConfig(
      this.config ? this.etag : undefined,
      signal,
    );
    if (answer.changed) {
      if (this.config && JSON.stringify(this.config) !== JSON.stringify(answer.config)) {
        this.options.log.info(
          { sync_mode: answer.config.sync_mode, interval_s: answer.config.interval_s },
          'AccountDB config changed',
        );
      }
      this.config = answer.config;
      this.etag = answer.etag;
      return answer.config;
    }
    if (this.config) return this.config;
    const fresh = await this.options.accountdb.getConfig(undefined, signal);
    if (!fresh.changed)
      throw new AccountDbError(
        'bad_response',
        'GET /agent/config answered 304 without a cached config',
      );
    this.config = fresh.config;
    this.etag = fresh.etag;
    return fresh.config;
  }

  private async readProxmox(config: AgentConfig, opts: CycleOptions) {
    const { pve, metrics, log } = this.options;
    const signal = opts.signal;
    const status = parseClusterStatus(await pve.get('/cluster/status', { signal }));
    const node = resolveNodeName(status, this.options.pveNode, config.name);
    if (this.nodeName !== node) log.info({ node }, 'syncing Proxmox node');
    this.nodeName = node;
    if (!status.quorate) {
      throw new PveError(
        'suspicious',
        `cluster "${status.cluster ?? ''}" is not quorate: its data may be stale`,
      );
    }
    if (!status.nodes.find((n) => n.name === node)?.online) {
      throw new PveError('suspicious', `node "${node}" is offline in /cluster/status`);
    }

    if (
      this.pveVersionValue === undefined ||
      this.now() - this.versionAt >= this.tuning.versionRefreshMs
    ) {
      try {
        this.pveVersionValue =
          parseVersion(await pve.get('/version', { signal })) ?? this.pveVersionValue;
        this.versionAt = this.now();
      } catch (err) {
        if (err instanceof PveError && isCycleFatal(err.kind)) throw err;
        log.debug({ err: (err as Error).message }, '/version failed');
      }
    }

    const observedAt = this.now();
    const listing = parseClusterResources(await pve.get('/cluster/resources?type=vm', { signal }));
    const ours = listing.malformed.filter((m) => m.node === undefined || m.node === node);
    if (ours.length > 0) {
      throw new PveError(
        'bad_response',
        `${ours.length} guest entr${ours.length === 1 ? 'y' : 'ies'} of /cluster/resources could not be read (e.g. ${ours[0]?.id ?? 'no id'})`,
        undefined,
        '/cluster/resources',
      );
    }
    const guests = listing.guests.filter((g) => g.node === node);
    metrics.set('accountdb_agent_guests', guests.length);

    const baseline = this.baseline();
    if (!opts.acceptDrop && baseline !== undefined && baseline > 0) {
      const collapsed =
        guests.length === 0 ||
        (baseline >= this.tuning.collapseMinGuests &&
          guests.length < baseline * this.tuning.collapseRatio);
      if (collapsed) {
        throw new PveError(
          'suspicious',
          `node "${node}" lists ${guests.length} guest(s), the last sync had ${baseline}: a token that may not audit the VMs sees an empty list (check PVEAuditor on /); if the guests were really removed, run "accountdb-agent once --accept-drop"`,
        );
      }
    }

    const details = await this.readDetails(node, guests, config, signal);
    return { observedAt, guests, stats: { node, guests: guests.length, ...details } };
  }

  private async readDetails(
    node: string,
    guests: ListedGuest[],
    config: AgentConfig,
    outer: AbortSignal | undefined,
  ) {
    const { pve, metrics, log } = this.options;
    const now = this.now();
    const whitelist = new Set(config.whitelist);
    const inScope = guests.filter((g) => config.sync_mode === 'all' || whitelist.has(g.vmid));

    // Bounded memory: forget guests that left the node.
    const present = new Set(guests.map((g) => g.vmid));
    for (const vmid of this.cache.keys()) if (!present.has(vmid)) this.cache.delete(vmid);

    type Target = { g: ListedGuest; entry: CachedGuest; key: string; refresh?: true };
    const targets: Target[] = [];
    const fresh: Target[] = [];
    const due: Target[] = [];
    for (const g of inScope) {
      if (g.stale) continue;
      let entry = this.cache.get(g.vmid);
      if (!entry || entry.type !== g.type) {
        entry = newCachedGuest(g.type);
        this.cache.set(g.vmid, entry);
      }
      const key = listingKey(g);
      if (entry.configAt === undefined) fresh.push({ g, entry, key });
      else if (entry.listingKey !== key) targets.push({ g, entry, key });
      else if (now - entry.configAt >= this.tuning.configRefreshMs)
        due.push({ g, entry, key, refresh: true });
    }
    // Listing first: a first cycle facing more new guests than the budget reads none of them;
    // later cycles read up to the budget each (guests whose listing changed always).
    const listingFirst = !this.synced && fresh.length > this.tuning.detailBudget;
    const taken = listingFirst ? [] : fresh.slice(0, this.tuning.detailBudget);
    targets.push(...taken);
    const detailBacklog = fresh.length - taken.length;
    if (listingFirst || taken.length > 0) {
      log.info(
        { new_guests: fresh.length, reading: taken.length, left: detailBacklog },
        listingFirst
          ? "syncing the listing first; new guests' details follow in the next cycles"
          : "reading new guests' details",
      );
    }
    // Round-robin refresh: the oldest reads first, enough per cycle to cover every guest once
    // per refresh period (the cycle interval is AccountDB's interval_s). Not while new
    // guests wait: they come first.
    const perCycle = Math.max(
      1,
      Math.ceil((inScope.length * config.interval_s * 1000) / this.tuning.configRefreshMs),
    );
    due.sort((a, b) => (a.entry.configAt ?? 0) - (b.entry.configAt ?? 0));
    if (detailBacklog === 0) targets.push(...due.slice(0, perCycle));
    const refreshed = new Set<number>();

    const local = new AbortController();
    const onAbort = () => local.abort();
    outer?.addEventListener('abort', onAbort, { once: true });
    const signal = local.signal;
    let configReads = 0;
    let configUnchanged = 0;
    let configErrors = 0;
    let addressReads = 0;
    let addressErrors = 0;
    let refreshAddressReads = 0;
    let retryReads = 0;
    try {
      const configLimit = pLimit(this.tuning.configConcurrency);
      await Promise.all(
        targets.map(({ g, entry, key, refresh }) =>
          configLimit(async () => {
            if (signal.aborted) throw new AbortedError();
            const path = `/nodes/${encodeURIComponent(node)}/${g.type}/${g.vmid}/config`;
            try {
              const data = await pve.get(path, { signal });
              configReads++;
              if (refresh) refreshed.add(g.vmid);
              const digest = (data as { digest?: unknown } | null)?.digest;
              if (typeof digest === 'string' && digest === entry.digest && entry.config) {
                configUnchanged++;
                metrics.inc('accountdb_agent_config_reads_total', { result: 'unchanged' });
              } else {
                entry.config = parseGuestConfig(g.type, data, path);
                entry.digest = entry.config.digest;
                metrics.inc('accountdb_agent_config_reads_total', { result: 'changed' });
              }
              entry.configAt = this.now();
              entry.listingKey = key;
              // New, changed or refreshed: read its addresses too (when it runs).
              entry.ipsWanted = true;
              entry.ipEmptyReads = 0;
            } catch (err) {
              if (signal.aborted) throw new AbortedError();
              if (err instanceof PveError && isCycleFatal(err.kind)) {
                local.abort();
                throw err;
              }
              configErrors++;
              metrics.inc('accountdb_agent_config_reads_total', { result: 'error' });
              log.info(
                { vmid: g.vmid, err: (err as Error).message },
                'config read failed; details kept from the last read',
              );
            }
          }),
        ),
      );

      const addressLimit = pLimit(this.tuning.addressConcurrency);
      const deniedNow = this.now() < this.addressDeniedUntil;
      const wanted = inScope.filter((g) => {
        const entry = this.cache.get(g.vmid);
        if (!entry?.config || !entry.ipsWanted || g.status !== 'running' || g.template || g.stale)
          return false;
        if (this.now() < entry.ipNextTryAt) return false;
        if (g.type === 'qemu') return entry.config.agentEnabled && !deniedNow;
        return this.lxcInterfaces !== false;
      });
      // Guests whose config was read this cycle are asked now; retries of earlier failed or
      // empty reads share the round-robin quota, the longest-waiting first, so that a node
      // of guests without a running guest agent costs a bounded number of calls a cycle.
      const readNow = new Set(targets.map((t) => t.g.vmid));
      const retries = wanted
        .filter((g) => !readNow.has(g.vmid))
        .sort(
          (a, b) =>
            (this.cache.get(a.vmid)?.ipNextTryAt ?? 0) - (this.cache.get(b.vmid)?.ipNextTryAt ?? 0),
        )
        .slice(0, perCycle);
      const retrying = new Set(retries.map((g) => g.vmid));
      const addressTargets = wanted.filter((g) => readNow.has(g.vmid) || retrying.has(g.vmid));
      await Promise.all(
        addressTargets.map((g) =>
          addressLimit(async () => {
            if (signal.aborted) throw new AbortedError();
            // A 403 seen by an earlier call of this cycle: do not ask again.
            if (g.type === 'qemu' && this.now() < this.addressDeniedUntil) return;
            const entry = this.cache.get(g.vmid) as CachedGuest;
            addressReads++;
            if (refreshed.has(g.vmid)) refreshAddressReads++;
            if (retrying.has(g.vmid)) retryReads++;
            const ok = await this.readAddresses(node, g, entry, signal);
            if (!ok) addressErrors++;
          }),
        ),
      );
    } finally {
      outer?.removeEventListener('abort', onAbort);
    }
    return {
      inScope: inScope.length,
      configReads,
      configUnchanged,
      configErrors,
      addressReads,
      addressErrors,
      refreshReads: refreshed.size,
      refreshAddressReads,
      retryReads,
      detailBacklog,
    };
  }

  /** Reads one guest's addresses; false when it failed (cached with backoff). */
  private async readAddresses(
    node: string,
    g: ListedGuest,
    entry: CachedGuest,
    signal: AbortSignal,
  ): Promise<boolean> {
    const { pve, metrics, log } = this.options;
    const path =
      g.type === 'qemu'
        ? `/nodes/${encodeURIComponent(node)}/qemu/${g.vmid}/agent/network-get-interfaces`
        : `/nodes/${encodeURIComponent(node)}/lxc/${g.vmid}/interfaces`;
    try {
      const data = await pve.get(path, { signal, timeoutMs: this.tuning.addressTimeoutMs });
      const ips = selectIps(
        g.type === 'qemu' ? parseAgentInterfaces(data) : parseLxcInterfaces(data),
      );
      if (g.type === 'lxc') this.lxcInterfaces = true;
      entry.ips = ips;
      entry.ipFailures = 0;
      entry.ipLastError = undefined;
      if (ips.length === 0 && entry.ipEmptyReads < this.tuning.emptyAddressRetries) {
        // Right after boot a guest may have only link-local addresses: look again soon.
        entry.ipEmptyReads++;
        entry.ipNextTryAt = this.now() + this.tuning.addressRetryBaseMs;
      } else {
        entry.ipsWanted = false;
        entry.ipNextTryAt = 0;
      }
      metrics.inc('accountdb_agent_guest_agent_calls_total', { result: 'ok' });
      return true;
    } catch (err) {
      if (signal.aborted) throw new AbortedError();
      const e = err instanceof PveError ? err : new PveError('network', String(err));
      metrics.inc('accountdb_agent_guest_agent_calls_total', { result: e.kind });
      if (e.kind === 'permission' && g.type === 'qemu') {
        this.addressDeniedUntil = this.now() + this.tuning.addressDeniedRetryMs;
        this.addressDeniedMessage = `guest-agent reads refused (403: ${e.message}); give the token VM.Monitor (PVE 8) or VM.GuestAgent.Audit (PVE 9), see docs/agent.md`;
        log.warn(this.addressDeniedMessage);
        return false;
      }
      if (e.kind === 'not_implemented' && g.type === 'lxc') {
        // Proxmox before 7.x: no /lxc/{vmid}/interfaces; the static ip= of netN is used instead.
        this.lxcInterfaces = false;
        entry.ipsWanted = false;
        return false;
      }
      if (/No QEMU guest agent configured/i.test(e.message)) {
        entry.ipsWanted = false;
        return false;
      }
      entry.ipFailures++;
      entry.ipLastError = e.message;
      entry.ipNextTryAt =
        this.now() +
        Math.min(
          this.tuning.addressRetryCapMs,
          this.tuning.addressRetryBaseMs * 2 ** (entry.ipFailures - 1),
        );
      log.debug(
        { vmid: g.vmid, kind: e.kind, err: e.message, failures: entry.ipFailures },
        'address read failed',
      );
      return false;
    }
  }
}
