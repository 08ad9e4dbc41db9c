import { SimInputError } from '../errors.js';
import type { SimTiming } from '../state/sim-state.js';
import { camelFields, expectNumbers, knownFields, snakeFields } from './body.js';
import type { ControlReply, ControlRequest } from './control-request.js';

/** GET /_sim/stats */
export function getStats(req: ControlRequest): ControlReply {
  return { status: 200, body: req.state.statsSnapshot() };
}

/** POST /_sim/stats/reset */
export function resetStats(req: ControlRequest): ControlReply {
  req.state.resetStats();
  return { status: 200, body: req.state.statsSnapshot() };
}

const driftBody = (req: ControlRequest) => ({
  status: 200,
  body: snakeFields(req.state.driftSettings()),
});

/** GET /_sim/drift */
export function getDrift(req: ControlRequest): ControlReply {
  return driftBody(req);
}

/** POST /_sim/drift {every_ms, fraction}: every_ms 0 stops. */
export function setDrift(req: ControlRequest): ControlReply {
  const fields = knownFields(req.body, ['every_ms', 'fraction']);
  expectNumbers(fields, ['every_ms', 'fraction']);
  if (fields.every_ms === undefined) throw new SimInputError(400, 'every_ms is required');
  req.state.startDrift({
    everyMs: fields.every_ms as number,
    fraction: (fields.fraction as number | undefined) ?? 0.05,
  });
  return driftBody(req);
}

/** POST /_sim/drift/step {fraction}: one drift step now; answers the VMIDs that flipped. */
export function driftStep(req: ControlRequest): ControlReply {
  const fields = knownFields(req.body, ['fraction']);
  expectNumbers(fields, ['fraction']);
  const changed = req.state.driftStep((fields.fraction as number | undefined) ?? 0.05);
  return { status: 200, body: { changed } };
}

const TIMING_FIELDS = [
  'auth_delay_ms',
  'agent_not_running_ms',
  'agent_timeout_ms',
  'stale_after_ms',
  'unknown_after_ms',
  'name_delay_ms',
  'ticket_lifetime_ms',
] as const;

/** GET /_sim/timing */
export function getTiming(req: ControlRequest): ControlReply {
  return { status: 200, body: snakeFields(req.state.timing) };
}

/** POST /_sim/timing: changes delays and expiry times. */
export function setTiming(req: ControlRequest): ControlReply {
  const fields = knownFields(req.body, TIMING_FIELDS);
  expectNumbers(fields, TIMING_FIELDS);
  req.state.setTiming(camelFields(fields) as Partial<SimTiming>);
  return getTiming(req);
}

/** GET /_sim/tls: the CA (to trust) and the certificate's SHA-256 fingerprint. */
export function getTls(req: ControlRequest): ControlReply {
  if (!req.tls) throw new SimInputError(404, 'TLS is off (start with --tls)');
  return {
    status: 200,
    body: { fingerprint: req.tls.fingerprint, ca_pem: req.tls.caPem, cert_pem: req.tls.certPem },
  };
}

/** GET /_sim: what is simulated. */
export function getInfo(req: ControlRequest): ControlReply {
  const { state } = req;
  return {
    status: 200,
    body: {
      pve_version: state.version.version,
      nodes: state.nodes().map((n) => n.name),
      guests: state.guestCount,
      tls: Boolean(req.tls),
    },
  };
}
