import type { SimState } from '../state/sim-state.js';
import type { SimTls } from '../tls.js';

export interface ControlRequest {
  state: SimState;
  params: Record<string, string>;
  /** Parsed JSON body of POST/PATCH ({} when empty). */
  body: unknown;
  tls: SimTls | undefined;
}

export interface ControlReply {
  status: number;
  body?: unknown;
}

export interface ControlRoute {
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  pattern: string;
  handler: (req: ControlRequest) => ControlReply;
}
