import { X509Certificate } from 'node:crypto';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { generate } from 'selfsigned';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PveTls } from '../src/config.js';
import { pveDispatcher } from '../src/net/tls.js';
import { PveClient } from '../src/pve/client.js';

// A cluster CA and a node certificate signed by it (SAN 127.0.0.1), like /etc/pve/pve-root-ca.pem
// and the node's pve-ssl.pem; a local HTTPS server presents the node certificate.
let server: Server;
let url = '';
let caCert = '';
let leafFingerprint = '';
let otherFingerprint = '';
let served = 0;

beforeAll(async () => {
  const ca = await generate([{ name: 'commonName', value: 'Proxmox Virtual Environment' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    extensions: [
      { name: 'basicConstraints', cA: true, critical: true },
      { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
    ],
  });
  const leaf = await generate([{ name: 'commonName', value: 'pve1.lab' }], {
    keyType: 'ec',
    curve: 'P-256',
    algorithm: 'sha256',
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  caCert = ca.cert;
  leafFingerprint = new X509Certificate(leaf.cert).fingerprint256;
  otherFingerprint = new X509Certificate(ca.cert).fingerprint256;
  server = createServer({ key: leaf.private, cert: leaf.cert }, (req, res) => {
    served++;
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ data: { version: '8.4.1', url: req.url } }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
}, 60_000);

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

async function version(tls: PveTls): Promise<unknown> {
  const dispatcher = pveDispatcher(tls);
  try {
    const client = new PveClient({
      baseUrl: url,
      tokenId: 'a@pve!t',
      tokenSecret: 's',
      dispatcher,
    });
    return await client.get('/version');
  } finally {
    await dispatcher.close();
  }
}

describe('TLS to Proxmox, per connection', () => {
  it('accepts the node certificate with the cluster CA file', async () => {
    expect(
      await version({ mode: 'ca', caFile: '/etc/pve/pve-root-ca.pem', ca: caCert }),
    ).toMatchObject({ version: '8.4.1' });
  });

  it('refuses the self-signed chain with system CAs only', async () => {
    await expect(version({ mode: 'system' })).rejects.toMatchObject({ kind: 'tls' });
  });

  it('accepts the certificate whose SHA-256 fingerprint is pinned', async () => {
    expect(leafFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(await version({ mode: 'fingerprint', fingerprint: leafFingerprint })).toMatchObject({
      version: '8.4.1',
    });
  });

  it('refuses any other certificate before sending a byte of the request', async () => {
    const before = served;
    const err = await version({ mode: 'fingerprint', fingerprint: otherFingerprint }).catch(
      (e: unknown) => e,
    );
    expect(err).toMatchObject({ kind: 'tls' });
    expect(String((err as Error).message)).toMatch(/does not match PVE_FINGERPRINT/);
    expect(served).toBe(before); // the token never reached the server
  });

  it('PVE_INSECURE skips verification for that connection only', async () => {
    expect(await version({ mode: 'insecure' })).toMatchObject({ version: '8.4.1' });
    // Nothing process-wide changed: a request with the default dispatcher still verifies.
    expect(process.env.NODE_TLS_REJECT_UNAUTHORIZED).toBeUndefined();
    await expect(request(`${url}/api2/json/version`)).rejects.toThrow();
  });
});
