import { request } from 'node:https';
import type { TLSSocket } from 'node:tls';
import { Agent, fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { certificateFingerprint, type PveSim } from '../src/index.js';
import { FAST, startSim } from './helpers/sim.js';

let sim: PveSim;
let agent: Agent;

beforeAll(async () => {
  sim = await startSim({ ...FAST, vms: 20, tls: true });
  agent = new Agent({ connect: { ca: sim.caPem } });
});
afterAll(async () => {
  await agent?.close();
  await sim?.stop();
});

describe('TLS', () => {
  it('serves HTTPS with a certificate signed by the generated CA', async () => {
    expect(sim.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const res = await undiciFetch(`${sim.apiUrl}/version`, {
      dispatcher: agent,
      headers: { authorization: sim.authorization },
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { data: { version: string } }).data.version).toBe('8.4.1');
  });

  it('is verified: a client without the CA is refused', async () => {
    const plain = new Agent();
    try {
      await expect(undiciFetch(`${sim.apiUrl}/version`, { dispatcher: plain })).rejects.toThrow();
    } finally {
      await plain.close();
    }
  });

  it('exposes the SHA-256 fingerprint (colon-separated upper hex) of the served certificate', async () => {
    expect(sim.fingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(certificateFingerprint(sim.certPem ?? '')).toBe(sim.fingerprint);
    const peer = await new Promise<string>((resolve, reject) => {
      const req = request(`${sim.url}/_sim/tls`, { ca: sim.caPem }, (res) => {
        const cert = (res.socket as TLSSocket).getPeerCertificate();
        res.resume();
        resolve(cert.fingerprint256);
      });
      req.on('error', reject);
      req.end();
    });
    expect(peer).toBe(sim.fingerprint);
  });

  it('covers 127.0.0.1, ::1 and localhost', async () => {
    const { X509Certificate } = await import('node:crypto');
    const san = new X509Certificate(sim.certPem ?? '').subjectAltName ?? '';
    expect(san).toContain('IP Address:127.0.0.1');
    expect(san).toContain('IP Address:0:0:0:0:0:0:0:1');
    expect(san).toContain('DNS:localhost');
    const res = await undiciFetch(`https://localhost:${sim.port}/api2/json/version`, {
      dispatcher: agent,
      headers: { authorization: sim.authorization },
    });
    expect(res.status).toBe(200);
  });

  it('lists the fingerprint as pve1 ssl_fingerprint and at /_sim/tls', async () => {
    const nodes = await undiciFetch(`${sim.apiUrl}/nodes`, {
      dispatcher: agent,
      headers: { authorization: sim.authorization },
    });
    const list = ((await nodes.json()) as { data: { node: string; ssl_fingerprint: string }[] })
      .data;
    expect(list.find((n) => n.node === 'pve1')?.ssl_fingerprint).toBe(sim.fingerprint);
    expect(list.find((n) => n.node === 'pve2')?.ssl_fingerprint).not.toBe(sim.fingerprint);
    const tls = await undiciFetch(`${sim.url}/_sim/tls`, { dispatcher: agent });
    expect(await tls.json()).toEqual({
      fingerprint: sim.fingerprint,
      ca_pem: sim.caPem,
      cert_pem: sim.certPem,
    });
  });
});
