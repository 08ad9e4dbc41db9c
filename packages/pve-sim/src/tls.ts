import { X509Certificate } from 'node:crypto';
import { isIP } from 'node:net';
import { generate } from 'selfsigned';

export interface SimTls {
  /** The "cluster CA" (like /etc/pve/pve-root-ca.pem): what a client trusts. */
  caPem: string;
  /** The node certificate the server presents, signed by the CA. */
  certPem: string;
  keyPem: string;
  /** SHA-256 of the node certificate, colon-separated upper-case hex (ssl_fingerprint). */
  fingerprint: string;
}

/** SHA-256 fingerprint of a PEM certificate in Proxmox's `ssl_fingerprint` form. */
export function certificateFingerprint(certPem: string): string {
  return new X509Certificate(certPem).fingerprint256;
}

/**
 * A CA and a node certificate signed by it, as a Proxmox node has them. The SANs hold
 * 127.0.0.1, ::1, localhost, the node name and any extra host (the bind address).
 */
export async function generateTls(
  nodeName: string,
  extraHosts: readonly string[] = [],
): Promise<SimTls> {
  const notAfterDate = new Date(Date.now() + 2 * 365 * 86_400_000);
  const ca = await generate(
    [
      { name: 'commonName', value: 'Proxmox Virtual Environment (pve-sim)' },
      { name: 'organizationName', value: 'PVE Cluster Manager CA' },
    ],
    {
      keyType: 'rsa',
      keySize: 2048,
      algorithm: 'sha256',
      notAfterDate,
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      ],
    },
  );
  const hosts = new Set(['127.0.0.1', '::1', 'localhost', nodeName, ...extraHosts]);
  hosts.delete('0.0.0.0');
  hosts.delete('::');
  const altNames = [...hosts].map((h) =>
    isIP(h) ? { type: 7 as const, ip: h } : { type: 2 as const, value: h },
  );
  const leaf = await generate(
    [
      { name: 'commonName', value: `${nodeName}.pve-sim` },
      { name: 'organizationName', value: 'PVE Cluster Node' },
    ],
    {
      keyType: 'rsa',
      keySize: 2048,
      algorithm: 'sha256',
      notAfterDate,
      ca: { key: ca.private, cert: ca.cert },
      extensions: [
        { name: 'basicConstraints', cA: false },
        { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
        { name: 'extKeyUsage', serverAuth: true },
        { name: 'subjectAltName', altNames },
      ],
    },
  );
  return {
    caPem: ca.cert,
    certPem: leaf.cert,
    keyPem: leaf.private,
    fingerprint: certificateFingerprint(leaf.cert),
  };
}
