import { nodeListEntry, nodeStatus } from '../views/node-view.js';
import type { ApiRequest } from './api-request.js';
import { requireNode } from './params.js';

/** GET /nodes */
export function getNodes(req: ApiRequest): unknown {
  return req.state.nodes().map((node) => nodeListEntry(req.state, node, req.now));
}

/** GET /nodes/{node}/status */
export function getNodeStatus(req: ApiRequest): unknown {
  return nodeStatus(req.state, requireNode(req), req.now);
}
