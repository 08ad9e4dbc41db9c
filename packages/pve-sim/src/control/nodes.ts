import { SimInputError } from '../errors.js';
import { expectBooleans, expectNumbers, knownFields } from './body.js';
import type { ControlReply, ControlRequest } from './control-request.js';

/** GET /_sim/nodes */
export function listSimNodes(req: ControlRequest): ControlReply {
  return { status: 200, body: req.state.nodes().map((n) => req.state.nodeSummary(n)) };
}

/** POST /_sim/nodes/{node} {online, stale_after_ms?, unknown_after_ms?} */
export function setSimNode(req: ControlRequest): ControlReply {
  const fields = knownFields(req.body, ['online', 'stale_after_ms', 'unknown_after_ms']);
  expectBooleans(fields, ['online']);
  expectNumbers(fields, ['stale_after_ms', 'unknown_after_ms']);
  if (typeof fields.online !== 'boolean')
    throw new SimInputError(400, 'online (boolean) is required');
  const summary = req.state.setNodeOnline(req.params.node ?? '', fields.online, {
    staleAfterMs: fields.stale_after_ms as number | undefined,
    unknownAfterMs: fields.unknown_after_ms as number | undefined,
  });
  return { status: 200, body: summary };
}
