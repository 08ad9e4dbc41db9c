import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Agent as UndiciAgent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccountDbClient } from '../src/accountdb/client.js';
import { parseRetryAfter } from '../src/net/http.js';
import { endpointLabel, PveClient } from '../src/pve/client.js';
import { classifyStatus, classifyThrown, isCycleFatal, type PveError } from '../src/pve/errors.js';
import { isNoiseAddress, selectIps } from '../src/pve/ip-select.js';
import type { GuestInterface } from '../src/pve/parse-interfaces.js';
import { Backoff, backoffCeiling, DEFAULT_BACKOFF, fullJitter } from '../src/sync/backoff.js';

const iface = (name: string | undefined, ips: string[], mac?: string): GuestInterface => ({
  name,
  mac,
  addresses: ips.map((ip) => ({ ip, family: ip.includes(':') ? 6 : 4, prefix: undefined })),
});

describe('IP selection', () => {
  it('drops loopback, link-local, container bridges and Calico MACs; IPv4 first; deduplicated', () => {
    const ips = selectIps([
      iface('lo', ['127.0.0.1', '::1']),
      iface('eth0', ['10.0.0.5', 'fe80::1', '2001:db8::5', '169.254.10.1']),
      iface('docker0', ['172.17.0.1']),
      iface('veth1a2b3c', ['fe80::2']),
      iface('br-5f3a9c', ['172.18.0.1']),
      iface('cni0', ['10.244.0.1']),
      iface('flannel.1', ['10.244.0.0']),
      iface('cali12345', ['192.168.5.1'], 'EE:EE:EE:EE:EE:EE'),
      iface('eth1', ['192.0.2.10', '10.0.0.5']),
      iface(undefined, ['198.51.100.7']),
    ]);
    expect(ips).toEqual(['10.0.0.5', '192.0.2.10', '198.51.100.7', '2001:db8::5']);
  });

  it('drops an interface only by its MAC when the name is harmless', () => {
    expect(selectIps([iface('eth5', ['10.1.1.1'], 'EE:EE:EE:EE:EE:EE')])).toEqual([]);
  });

  it('returns nothing for a guest that has only link-local addresses right after boot', () => {
    expect(selectIps([iface('eth0', ['fe80::be24:11ff:fe00:1', '169.254.1.2'])])).toEqual([]);
  });

  it('caps the list (50+ interfaces)', () => {
    const many = Array.from({ length: 150 }, (_, i) =>
      iface(`eth${i}`, [`10.1.${i >> 8}.${i & 255}`]),
    );
    expect(selectIps(many)).toHaveLength(100);
  });

  it('knows the noise ranges', () => {
    expect(isNoiseAddress('127.5.5.5', 4)).toBe(true);
    expect(isNoiseAddress('0.0.0.0', 4)).toBe(true);
    expect(isNoiseAddress('224.0.0.1', 4)).toBe(true);
    expect(isNoiseAddress('febf::1', 6)).toBe(true); // still fe80::/10
    expect(isNoiseAddress('fec0::1', 6)).toBe(false);
    expect(isNoiseAddress('::ffff:127.0.0.1', 6)).toBe(true);
    expect(isNoiseAddress('::', 6)).toBe(true);
    expect(isNoiseAddress('8.8.8.8', 4)).toBe(false);
  });
});

describe('backoff with full jitter', () => {
  const opts = { baseMs: 1_000, capMs: 300_000 };

  it('grows the ceiling exponentially up to the cap', () => {
    expect([0, 1, 2, 3, 8, 9, 50, 5000].map((n) => backoffCeiling(n, opts))).toEqual([
      1_000, 2_000, 4_000, 8_000, 256_000, 300_000, 300_000, 300_000,
    ]);
  });

  it('draws uniformly in [0, ceiling): the random source decides, never beyond the cap', () => {
    expect(fullJitter(3, opts, () => 0)).toBe(0);
    expect(fullJitter(3, opts, () => 0.5)).toBe(4_000);
    expect(fullJitter(3, opts, () => 0.999999)).toBe(7_999);
    expect(fullJitter(20, opts, () => 0.999999)).toBeLessThan(300_000);
    expect(fullJitter(3, opts, () => 1)).toBeLessThan(8_000); // a broken source is clamped
    expect(fullJitter(3, opts, () => -1)).toBe(0);
  });

  it('never waits less than the floor, and spreads draws above it instead of piling them on it', () => {
    const floored = { ...opts, minMs: 500 };
    expect(fullJitter(0, floored, () => 0)).toBe(500);
    expect(fullJitter(0, floored, () => 0.5)).toBe(750);
    expect(fullJitter(0, floored, () => 0.999999)).toBe(999);
    expect(fullJitter(20, floored, () => 0.999999)).toBeLessThan(300_000);
    expect(fullJitter(0, { ...opts, minMs: 5_000 }, () => 0.5)).toBe(1_000); // ≤ the ceiling
    const worst = new Backoff(DEFAULT_BACKOFF, () => 0);
    for (let i = 0; i < 20; i++) expect(worst.next()).toBeGreaterThanOrEqual(500);
  });

  it('spreads retries over the whole window (not a fixed delay)', () => {
    let seed = 42;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed / 2 ** 31;
    };
    const draws = Array.from({ length: 400 }, () => fullJitter(4, opts, random));
    expect(Math.min(...draws)).toBeLessThan(1_600);
    expect(Math.max(...draws)).toBeGreaterThan(14_400);
    expect(draws.every((d) => d >= 0 && d < 16_000)).toBe(true);
  });

  it('counts attempts, honours Retry-After as a floor (bounded), and resets after success', () => {
    const b = new Backoff({ baseMs: 1_000, capMs: 300_000, maxRetryAfterMs: 600_000 }, () => 0.999);
    expect(b.next()).toBe(999);
    expect(b.next()).toBe(1_998);
    expect(b.attempt).toBe(2);
    expect(b.next(10_000)).toBe(10_000);
    expect(b.next(86_400_000)).toBe(600_000);
    b.reset();
    expect(b.attempt).toBe(0);
    expect(b.next()).toBe(999);
  });

  it('reads Retry-After as seconds or an HTTP date', () => {
    expect(parseRetryAfter('120')).toBe(120_000);
    expect(
      parseRetryAfter('Wed, 21 Oct 2015 07:28:10 GMT', Date.parse('Wed, 21 Oct 2015 07:28:00 GMT')),
    ).toBe(10_000);
    expect(parseRetryAfter('soon')).toBeUndefined();
    expect(parseRetryAfter(undefined)).toBeUndefined();
  });
});

describe('error classification', () => {
  it('classifies Proxmox status codes', () => {
    expect(classifyStatus(401)).toBe('auth');
    expect(classifyStatus(403)).toBe('permission');
    expect(classifyStatus(404)).toBe('not_found');
    expect(
      classifyStatus(500, "Configuration file 'nodes/pve1/qemu-server/101.conf' does not exist"),
    ).toBe('not_found');
    expect(classifyStatus(500, 'QEMU guest agent is not running')).toBe('server');
    expect(classifyStatus(501)).toBe('not_implemented');
    for (const s of [595, 596, 597, 598, 599]) expect(classifyStatus(s)).toBe('unreachable');
    expect(classifyStatus(502)).toBe('server');
    expect(classifyStatus(400)).toBe('client');
  });

  it('classifies thrown errors', () => {
    expect(classifyThrown(Object.assign(new Error('x'), { code: 'ECONNREFUSED' }))).toBe('network');
    expect(
      classifyThrown(Object.assign(new Error('x'), { code: 'DEPTH_ZERO_SELF_SIGNED_CERT' })),
    ).toBe('tls');
    expect(
      classifyThrown(Object.assign(new Error('x'), { code: 'ERR_TLS_CERT_ALTNAME_INVALID' })),
    ).toBe('tls');
    expect(classifyThrown(Object.assign(new Error('x'), { code: 'UND_ERR_HEADERS_TIMEOUT' }))).toBe(
      'timeout',
    );
    expect(
      classifyThrown(
        Object.assign(new Error('fetch failed'), {
          cause: Object.assign(new Error('y'), { code: 'CERT_HAS_EXPIRED' }),
        }),
      ),
    ).toBe('tls');
  });

  it('decides which kinds stop the cycle', () => {
    for (const k of ['auth', 'permission', 'unreachable', 'network', 'tls', 'suspicious'] as const)
      expect(isCycleFatal(k)).toBe(true);
    for (const k of [
      'not_found',
      'server',
      'timeout',
      'not_implemented',
      'client',
      'bad_response',
    ] as const)
      expect(isCycleFatal(k)).toBe(false);
  });

  it('labels endpoints without node names or VMIDs (bounded metrics)', () => {
    expect(endpointLabel('/nodes/pve1/qemu/101/agent/network-get-interfaces')).toBe(
      '/nodes/{node}/qemu/{vmid}/agent/network-get-interfaces',
    );
    expect(endpointLabel('/cluster/resources?type=vm')).toBe('/cluster/resources');
  });
});

describe('clients against a real HTTP server', () => {
  let server: Server;
  let base = '';
  const dispatcher = new UndiciAgent();
  const routes: Record<string, (res: import('node:http').ServerResponse) => void> = {
    '/api2/json/ok': (res) =>
      res
        .writeHead(200, { 'content-type': 'application/json;charset=UTF-8' })
        .end('{"data":{"a":1}}'),
    '/api2/json/null': (res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":null}'),
    '/api2/json/401': (res) => res.writeHead(401, 'No ticket').end(),
    '/api2/json/403': (res) =>
      res
        .writeHead(403, { 'content-type': 'application/json' })
        .end('{"data":null,"message":"Permission check failed (/, Sys.Audit)\\n"}'),
    '/api2/json/400': (res) =>
      res
        .writeHead(400, { 'content-type': 'application/json' })
        .end(
          '{"data":null,"message":"Parameter verification failed.\\n","errors":{"vmid":"invalid"}}',
        ),
    '/api2/json/595': (res) => res.writeHead(595, 'Errors during connection establishment').end(),
    '/api2/json/html': (res) =>
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html></html>'),
    '/api2/json/badjson': (res) =>
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"data":'),
    '/api/v1/agent/config': (res) =>
      res
        .writeHead(503, { 'retry-after': '12', 'content-type': 'application/problem+json' })
        .end('{"title":"down"}'),
    '/api/v1/agent/heartbeat': (res) =>
      res
        .writeHead(422, { 'content-type': 'application/problem+json' })
        .end(
          '{"title":"x","detail":"bad body","errors":[{"path":"/body/status","message":"must be ok|error"}]}',
        ),
  };

  beforeAll(async () => {
    server = createServer((req, res) => {
      const route = routes[(req.url ?? '').split('?')[0] as string];
      if (route) route(res);
      else res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await dispatcher.close();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });

  async function pveKind(path: string): Promise<PveError> {
    const client = new PveClient({
      baseUrl: base,
      tokenId: 'a@pve!t',
      tokenSecret: 's',
      dispatcher,
    });
    try {
      await client.get(path);
    } catch (err) {
      return err as PveError;
    }
    throw new Error('no error');
  }

  it('returns data and a null data', async () => {
    const client = new PveClient({
      baseUrl: base,
      tokenId: 'a@pve!t',
      tokenSecret: 's',
      dispatcher,
    });
    expect(await client.get('/ok')).toEqual({ a: 1 });
    expect(await client.get('/null')).toBeNull();
  });

  it('turns every failure into a classified error', async () => {
    expect((await pveKind('/401')).kind).toBe('auth');
    const e403 = await pveKind('/403');
    expect([e403.kind, e403.status, e403.message]).toEqual([
      'permission',
      403,
      'Permission check failed (/, Sys.Audit)',
    ]);
    expect((await pveKind('/400')).message).toBe('Parameter verification failed.; vmid: invalid');
    expect((await pveKind('/595')).kind).toBe('unreachable');
    expect((await pveKind('/html')).kind).toBe('bad_response');
    expect((await pveKind('/badjson')).kind).toBe('bad_response');
    const refused = new PveClient({
      baseUrl: 'http://127.0.0.1:1',
      tokenId: 'a@pve!t',
      tokenSecret: 's',
      dispatcher,
    });
    await expect(refused.get('/version')).rejects.toMatchObject({ kind: 'network' });
  });

  it('classifies AccountDB answers: 503 with Retry-After is "unavailable", 422 is "rejected" with the field', async () => {
    const client = new AccountDbClient({ baseUrl: `${base}/`, nodeKey: 'adb_node_x', dispatcher });
    await expect(client.getConfig()).rejects.toMatchObject({
      kind: 'unavailable',
      status: 503,
      retryAfterMs: 12_000,
    });
    await expect(client.heartbeat({ status: 'ok', agent_version: '0.1.0' })).rejects.toMatchObject({
      kind: 'rejected',
      message: 'AccountDB answered 422: bad body; /body/status: must be ok|error',
    });
    const down = new AccountDbClient({
      baseUrl: 'http://127.0.0.1:1',
      nodeKey: 'adb_node_x',
      dispatcher,
    });
    await expect(down.getConfig()).rejects.toMatchObject({ kind: 'unavailable' });
  });
});
