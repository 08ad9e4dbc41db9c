import type { TLSSocket } from 'node:tls';
import { Agent, buildConnector, type Dispatcher } from 'undici';
import type { PveTls } from '../config.js';

/**
 * One HTTP dispatcher per upstream, each with its own TLS setting. Nothing here touches
 * process-wide TLS state (no NODE_TLS_REJECT_UNAUTHORIZED): a CA file or a fingerprint pin
 * applies only to the Proxmox connection it was configured for.
 */

export interface DispatcherOptions {
  /** Connect timeout (TCP + TLS handshake), ms. */
  connectTimeoutMs?: number;
  /** Concurrent connections per origin. */
  connections?: number;
}

/** The error a pin mismatch raises; classified as a TLS error. */
export class FingerprintMismatchError extends Error {
  readonly code = 'ERR_PVE_FINGERPRINT_MISMATCH';
  constructor(
    readonly expected: string,
    readonly actual: string,
  ) {
    super(
      `certificate fingerprint ${actual || '(none)'} does not match PVE_FINGERPRINT ${expected}`,
    );
    this.name = 'FingerprintMismatchError';
  }
}

/**
 * A connector that accepts exactly the certificate whose SHA-256 fingerprint is `fingerprint`
 * (upper-case hex pairs joined by ":", as Proxmox shows it). Chain validation is replaced by
 * the pin, not skipped: the socket is handed to undici — and the first request byte written —
 * only after the peer certificate matched; any other certificate destroys the socket. TLS
 * session resumption is off so every connection presents and checks its certificate.
 */
export function pinnedConnector(
  fingerprint: string,
  connectTimeoutMs: number,
): buildConnector.connector {
  const base = buildConnector({
    rejectUnauthorized: false,
    maxCachedSessions: 0,
    timeout: connectTimeoutMs,
  });
  return (options, callback) => {
    base(options, (err, socket) => {
      if (err || !socket) {
        callback(err ?? new Error('TLS connection failed'), null);
        return;
      }
      const tls = socket as TLSSocket;
      const actual =
        typeof tls.getPeerCertificate === 'function'
          ? (tls.getPeerCertificate()?.fingerprint256 ?? '')
          : '';
      if (actual.toUpperCase() !== fingerprint) {
        socket.destroy();
        callback(new FingerprintMismatchError(fingerprint, actual), null);
        return;
      }
      callback(null, socket);
    });
  };
}

/** The dispatcher for the Proxmox API with the configured TLS mode. */
export function pveDispatcher(tls: PveTls, options: DispatcherOptions = {}): Dispatcher {
  const timeout = options.connectTimeoutMs ?? 10_000;
  const connections = options.connections ?? 4;
  switch (tls.mode) {
    case 'ca':
      return new Agent({ connections, connect: { ca: tls.ca, timeout } });
    case 'fingerprint':
      return new Agent({ connections, connect: pinnedConnector(tls.fingerprint, timeout) });
    case 'insecure':
      return new Agent({ connections, connect: { rejectUnauthorized: false, timeout } });
    default:
      return new Agent({ connections, connect: { timeout } });
  }
}

/** The dispatcher for AccountDB: system CAs, or only ACCOUNTDB_CA_FILE's CA when given. */
export function accountdbDispatcher(
  ca: string | undefined,
  options: DispatcherOptions = {},
): Dispatcher {
  const timeout = options.connectTimeoutMs ?? 10_000;
  return new Agent({
    connections: options.connections ?? 2,
    connect: ca ? { ca, timeout } : { timeout },
  });
}
