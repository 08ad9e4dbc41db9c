import { randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { type ApiToken, authorizationHeader, isValidTokenId } from './http/auth.js';
import { API_PREFIX, createRequestListener } from './http/server.js';
import { TicketIssuer } from './http/ticket.js';
import { generateScenario } from './scenario/generate.js';
import type { StatsSnapshot } from './state/request-stats.js';
import { SimState, type SimTiming } from './state/sim-state.js';
import { generateTls, type SimTls } from './tls.js';
import { DEFAULT_PVE_VERSION, parsePveVersion } from './version.js';

export interface PveSimOptions {
  /** Number of guests (QEMU and LXC). Default 100. */
  vms?: number;
  /** Number of nodes (pve1…pveN); pve1 serves the API. Default 3. */
  nodes?: number;
  /** Scenario seed: the same seed gives the same cluster. Default 1. */
  seed?: number;
  /** 0 (default) picks a free port. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** HTTPS with a generated CA and node certificate. */
  tls?: boolean;
  /** Default `inv@pve!sync`. */
  tokenId?: string;
  /** Default: a random UUID. */
  tokenSecret?: string;
  /** The user who may log in with `POST /access/ticket` (`USER@REALM`). Default `root@pam`. */
  username?: string;
  /** That user's password. Default: a random UUID. */
  password?: string;
  /** Delay before 401 answers. Default 3000 (Proxmox); tests use 0–50. */
  authDelayMs?: number;
  /** Simulated Proxmox VE version. Default 8.4.1. */
  pveVersion?: string;
  /** How long an offline node's guests still look live before they freeze. Default 0. */
  staleAfterMs?: number;
  /** When an offline node's guests become `unknown`. Default 300000 (5 min). */
  unknownAfterMs?: number;
  /** Delay before "QEMU guest agent is not running". Default 3000. */
  agentNotRunningMs?: number;
  /** Delay before "… got timeout". Default 5000. */
  agentTimeoutMs?: number;
  /** How long new guests lack `name` in /cluster/resources. Default 10000. */
  nameDelayMs?: number;
  /** How long login tickets and CSRF tokens stay valid. Default 7200000 (2 h). */
  ticketLifetimeMs?: number;
  /** Nodes that start offline (their entries stale from the start). */
  offlineNodes?: readonly string[];
}

export interface PveSim {
  /** Origin, e.g. `https://127.0.0.1:8006` (the API is under /api2/json). */
  url: string;
  /** `url` + /api2/json. */
  apiUrl: string;
  port: number;
  host: string;
  tokenId: string;
  tokenSecret: string;
  /** The full `Authorization` header value. */
  authorization: string;
  /** Ticket login (`POST /access/ticket`): user `USER@REALM` and password. */
  username: string;
  password: string;
  /** With TLS: SHA-256 fingerprint of the served certificate (AA:BB:…). */
  fingerprint?: string;
  /** With TLS: the CA that signed the served certificate. */
  caPem?: string;
  certPem?: string;
  state: SimState;
  stats(): StatsSnapshot;
  resetStats(): void;
  stop(): Promise<void>;
}

const DEFAULT_TIMING: SimTiming = {
  authDelayMs: 3000,
  agentNotRunningMs: 3000,
  agentTimeoutMs: 5000,
  staleAfterMs: 0,
  unknownAfterMs: 300_000,
  nameDelayMs: 10_000,
  ticketLifetimeMs: 7_200_000,
};

function integerOption(name: string, value: number, min: number, max: number): number {
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer between ${min} and ${max} (got ${value})`);
  }
  return value;
}

function timingOptions(options: PveSimOptions): SimTiming {
  const timing = { ...DEFAULT_TIMING };
  for (const key of Object.keys(DEFAULT_TIMING) as (keyof SimTiming)[]) {
    const value = options[key];
    if (value !== undefined) timing[key] = integerOption(key, value, 0, 86_400_000);
  }
  return timing;
}

function urlHost(host: string): string {
  if (host === '0.0.0.0') return '127.0.0.1';
  if (host === '::') return '[::1]';
  return host.includes(':') ? `[${host}]` : host;
}

/** Starts a simulated Proxmox VE cluster API. */
export async function startPveSim(options: PveSimOptions = {}): Promise<PveSim> {
  const guests = integerOption('vms', options.vms ?? 100, 0, 200_000);
  const nodeCount = integerOption('nodes', options.nodes ?? 3, 1, 64);
  const seed = integerOption('seed', options.seed ?? 1, -(2 ** 31), 2 ** 32);
  const port = integerOption('port', options.port ?? 0, 0, 65_535);
  const host = options.host ?? '127.0.0.1';
  const token: ApiToken = {
    tokenId: options.tokenId ?? 'inv@pve!sync',
    tokenSecret: options.tokenSecret ?? randomUUID(),
  };
  if (!isValidTokenId(token.tokenId)) {
    throw new Error(`token id '${token.tokenId}' is not of the form USER@REALM!TOKENID`);
  }
  if (!token.tokenSecret || /\s/.test(token.tokenSecret)) throw new Error('invalid token secret');
  const user = {
    username: options.username ?? 'root@pam',
    password: options.password ?? randomUUID(),
  };
  if (!/^[^\s@:!]+@[^\s@:!]+$/.test(user.username) || user.username.length > 64) {
    throw new Error(`user '${user.username}' is not of the form USER@REALM`);
  }
  if (!user.password) throw new Error('invalid password');
  const version = parsePveVersion(options.pveVersion ?? DEFAULT_PVE_VERSION);
  const timing = timingOptions(options);
  const now = Date.now();
  const scenario = generateScenario({
    guests,
    nodes: nodeCount,
    seed,
    now,
    version,
    nameDelayMs: timing.nameDelayMs,
  });
  let tls: SimTls | undefined;
  if (options.tls) {
    const local = scenario.nodes[0];
    tls = await generateTls(local?.name ?? 'pve1', [host]);
    if (local) local.sslFingerprint = tls.fingerprint;
  }
  const state = new SimState({ version, seed, scenario, timing });
  const controller = new AbortController();
  const tickets = new TicketIssuer(user, state.clock, () => state.timing.ticketLifetimeMs);
  const listener = createRequestListener({
    state,
    token,
    tickets,
    tls,
    signal: controller.signal,
  });
  const server: Server = tls
    ? createHttpsServer({ key: tls.keyPem, cert: tls.certPem }, listener)
    : createHttpServer(listener);
  server.keepAliveTimeout = 5_000;
  try {
    for (const node of options.offlineNodes ?? []) state.setNodeOnline(node, false);
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    state.dispose();
    throw err;
  }
  const address = server.address() as AddressInfo;
  const url = `${tls ? 'https' : 'http'}://${urlHost(host)}:${address.port}`;
  let stopped: Promise<void> | undefined;
  return {
    url,
    apiUrl: `${url}${API_PREFIX}`,
    port: address.port,
    host,
    tokenId: token.tokenId,
    tokenSecret: token.tokenSecret,
    authorization: authorizationHeader(token),
    username: user.username,
    password: user.password,
    fingerprint: tls?.fingerprint,
    caPem: tls?.caPem,
    certPem: tls?.certPem,
    state,
    stats: () => state.statsSnapshot(),
    resetStats: () => state.resetStats(),
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        state.dispose();
        controller.abort();
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return stopped;
    },
  };
}
