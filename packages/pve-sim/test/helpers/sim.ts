import { type PveSim, type PveSimOptions, startPveSim } from '../../src/index.js';

/** Fast timings for tests (the defaults mimic Proxmox: seconds). */
// biome-ignore lint/suspicious/noExplicitAny: parsed JSON of the simulated API; the tests assert its shape
export type Json = any;

export const FAST: PveSimOptions = {
  authDelayMs: 20,
  agentNotRunningMs: 30,
  agentTimeoutMs: 60,
  nameDelayMs: 0,
};

export function startSim(options: PveSimOptions = {}): Promise<PveSim> {
  return startPveSim({ vms: 200, nodes: 3, seed: 7, ...FAST, ...options });
}

export interface ApiAnswer {
  status: number;
  reason: string;
  contentType: string | null;
  text: string;
  /** Parsed body (undefined when empty or not JSON). */
  body: Json;
  ms: number;
}

async function answer(res: Response, started: number): Promise<ApiAnswer> {
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  return {
    status: res.status,
    reason: res.statusText,
    contentType: res.headers.get('content-type'),
    text,
    body,
    ms: performance.now() - started,
  };
}

/** GET an API path (under /api2/json) with the simulator's token unless told otherwise. */
export async function api(
  sim: PveSim,
  path: string,
  init: { authorization?: string | null; method?: string } = {},
): Promise<ApiAnswer> {
  const headers: Record<string, string> = {};
  const authorization = init.authorization === undefined ? sim.authorization : init.authorization;
  if (authorization !== null) headers.authorization = authorization;
  const started = performance.now();
  const res = await fetch(`${sim.apiUrl}${path}`, { method: init.method ?? 'GET', headers });
  return answer(res, started);
}

/** Calls the /_sim control API with a JSON body. */
export async function control(
  sim: PveSim,
  method: string,
  path: string,
  body?: unknown,
): Promise<ApiAnswer> {
  const started = performance.now();
  const res = await fetch(`${sim.url}/_sim${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return answer(res, started);
}

/** The data of a 200 API answer (fails the test otherwise). */
export async function data(sim: PveSim, path: string): Promise<Json> {
  const res = await api(sim, path);
  if (res.status !== 200) throw new Error(`GET ${path}: ${res.status} ${res.reason} ${res.text}`);
  return res.body.data;
}
