/**
 * Proxmox errors, classified by status code (PROXMOX.md "Design consequences" 4). The kind
 * decides what the agent does: the cycle-level kinds stop the sync and send a heartbeat with
 * the error; the per-guest kinds only leave that guest's details out of this cycle.
 */
export type PveErrorKind =
  /** 401: token id/secret wrong, token expired or removed. */
  | 'auth'
  /** 403: the token lacks a privilege (ACL / role). */
  | 'permission'
  /** 404, or 500 "… does not exist": the guest moved or was deleted since the listing. */
  | 'not_found'
  /** 501: endpoint unknown to this Proxmox version. */
  | 'not_implemented'
  /** 595–599: the contacted node could not reach the target node. */
  | 'unreachable'
  /** Other 5xx (guest agent errors are 500). */
  | 'server'
  /** Other 4xx. */
  | 'client'
  /** No answer within the timeout. */
  | 'timeout'
  /** Connection refused, reset, DNS… */
  | 'network'
  /** Certificate verification failed or the fingerprint pin did not match. */
  | 'tls'
  /** Not JSON, not the `{data: …}` envelope, or not the expected shape (e.g. an HTML proxy page). */
  | 'bad_response'
  /** A well-formed answer that cannot be right: empty or collapsed listing, node offline, no quorum. */
  | 'suspicious';

export class PveError extends Error {
  constructor(
    readonly kind: PveErrorKind,
    message: string,
    readonly status?: number,
    readonly path?: string,
  ) {
    super(message);
    this.name = 'PveError';
  }
}

/** Kinds that make the whole cycle untrustworthy (no sync, heartbeat with the error). */
export function isCycleFatal(kind: PveErrorKind): boolean {
  return (
    kind === 'auth' ||
    kind === 'permission' ||
    kind === 'unreachable' ||
    kind === 'network' ||
    kind === 'tls' ||
    kind === 'suspicious'
  );
}

/** The kind for an HTTP status (and Proxmox's message, which tells "does not exist" apart). */
export function classifyStatus(status: number, message = ''): PveErrorKind {
  if (status === 401) return 'auth';
  if (status === 403) return 'permission';
  if (status === 404) return 'not_found';
  if (status === 501) return 'not_implemented';
  if (status >= 595 && status <= 599) return 'unreachable';
  if (status >= 500)
    return /does not exist|no such (vm|container)|not found/i.test(message)
      ? 'not_found'
      : 'server';
  return 'client';
}

const TLS_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'CERT_SIGNATURE_FAILURE',
  'ERR_PVE_FINGERPRINT_MISMATCH',
  'EPROTO',
  'ERR_SSL_WRONG_VERSION_NUMBER',
]);

/** The kind for a thrown error (undici / node:net / TLS / abort). */
export function classifyThrown(err: unknown): PveErrorKind {
  const e = err as { code?: string; name?: string; cause?: unknown };
  const code = e?.code ?? '';
  if (TLS_CODES.has(code) || /^ERR_SSL_|^ERR_TLS_|CERT/.test(code)) return 'tls';
  if (
    e?.name === 'TimeoutError' ||
    code === 'UND_ERR_CONNECT_TIMEOUT' ||
    code === 'UND_ERR_HEADERS_TIMEOUT' ||
    code === 'UND_ERR_BODY_TIMEOUT' ||
    code === 'ETIMEDOUT'
  ) {
    return 'timeout';
  }
  if (e?.cause && e.cause !== err) {
    const inner = classifyThrown(e.cause);
    if (inner !== 'network') return inner;
  }
  return 'network';
}

/** A short, secret-free explanation with the fix, for heartbeats, logs and `check`. */
export function explainPveError(err: PveError): string {
  const where = err.path ? ` (${err.path})` : '';
  switch (err.kind) {
    case 'auth':
      return `Proxmox answered 401${where}: the API token was refused; check PVE_TOKEN_ID and PVE_TOKEN_SECRET (token removed or expired?)`;
    case 'permission':
      return `Proxmox answered 403${where}: ${err.message}; give the token and its user the PVEAuditor role on / (docs/agent.md)`;
    case 'unreachable':
      return `Proxmox answered ${err.status ?? '59x'}${where}: the node could not be reached through the cluster (${err.message})`;
    case 'tls':
      return `TLS to Proxmox failed${where}: ${err.message}; set PVE_CA_FILE (on the host: /etc/pve/pve-root-ca.pem) or PVE_FINGERPRINT`;
    case 'timeout':
      return `Proxmox did not answer in time${where}: ${err.message}`;
    case 'network':
      return `cannot reach Proxmox${where}: ${err.message}; check PVE_URL and that pveproxy runs`;
    case 'bad_response':
      return `Proxmox sent an unexpected answer${where}: ${err.message}`;
    case 'suspicious':
      return `Proxmox's answer looks wrong, not syncing: ${err.message}`;
    default:
      return `Proxmox error${err.status ? ` ${err.status}` : ''}${where}: ${err.message}`;
  }
}
