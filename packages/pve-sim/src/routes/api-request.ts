import type { SimState } from '../state/sim-state.js';

/** What an API route handler gets. */
export interface ApiRequest {
  state: SimState;
  params: Record<string, string>;
  query: URLSearchParams;
  now: number;
  /** Aborted when the simulator stops (cuts delayed answers short). */
  signal: AbortSignal;
}

export interface ApiRoute {
  /** `/nodes/{node}/qemu/{vmid}/config`: also the key of requests_by_path. */
  pattern: string;
  /** Endpoint kind: the key of requests_by_kind and of `only` in faults. */
  kind: string;
  /** Query parameters the endpoint accepts; others answer 400 like Proxmox. */
  query: readonly string[];
  /** First version with this endpoint (501 before). */
  since?: readonly [major: number, minor: number];
  handler: (req: ApiRequest) => unknown;
}
