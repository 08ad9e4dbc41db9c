import type { FaultSettings } from '../state/faults.js';
import { camelFields, expectBooleans, expectNumbers, knownFields, snakeFields } from './body.js';
import type { ControlReply, ControlRequest } from './control-request.js';

const FAULT_FIELDS = [
  'down',
  'latency_ms',
  'error_rate',
  'error_status',
  'guest_agent_timeout',
  'status',
  'message',
  'empty',
  'html',
  'html_status',
  'only',
] as const;

const current = (req: ControlRequest): ControlReply => ({
  status: 200,
  body: snakeFields(req.state.faults.settings),
});

/** GET /_sim/faults */
export function getFaults(req: ControlRequest): ControlReply {
  return current(req);
}

/** POST /_sim/faults: sets the given fields, keeps the others. */
export function setFaults(req: ControlRequest): ControlReply {
  const fields = knownFields(req.body, FAULT_FIELDS);
  expectBooleans(fields, ['down', 'guest_agent_timeout', 'empty', 'html']);
  expectNumbers(fields, ['latency_ms', 'error_rate', 'error_status', 'html_status']);
  req.state.setFaults(camelFields(fields) as Partial<FaultSettings>);
  return current(req);
}

/** DELETE /_sim/faults: all faults off. */
export function clearFaults(req: ControlRequest): ControlReply {
  req.state.clearFaults();
  return current(req);
}
