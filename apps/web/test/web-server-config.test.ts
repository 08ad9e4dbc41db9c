import { spawnSync } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadWebConfig } from '../server/config.mjs';
import { replaceForwardedHeaders, seenBy } from '../server/forwarded.mjs';
import { contentSecurityPolicy } from '../server/page-security.mjs';
import { trustProxy } from '../server/trust-proxy.mjs';

/**
 * The web server's own decisions (apps/web/server): whom it believes about the client, what it
 * tells Next.js and the API, the pages' policy, its settings. Through real processes:
 * forwarding.test.ts and the e2e test.
 */

function request(options: {
  peer: string;
  headers?: Record<string, string>;
  encrypted?: boolean;
}): IncomingMessage {
  return {
    socket: { remoteAddress: options.peer, encrypted: options.encrypted === true },
    headers: { host: 'ui.example:3000', ...options.headers },
  } as unknown as IncomingMessage;
}

const claims = {
  'x-forwarded-for': '198.51.100.1',
  'x-forwarded-host': 'evil.example',
  'x-forwarded-proto': 'https',
  'x-forwarded-port': '443',
  'x-real-ip': '198.51.100.2',
  forwarded: 'for=198.51.100.3;proto=https',
  'true-client-ip': '198.51.100.4',
};

describe('WEB_TRUST_PROXY', () => {
  it('believes nobody when unset, false or 0', () => {
    for (const value of [undefined, 'false', '0', 'off']) {
      expect(trustProxy(value)('127.0.0.1', 0)).toBe(false);
    }
  });

  it('refuses true, and anything that is not an address, a CIDR or loopback', () => {
    for (const value of [
      'true',
      'yes',
      'example.com',
      '10.0.0.0/8,*',
      '300.1.1.1',
      '10.0.0.0/40',
    ]) {
      expect(() => trustProxy(value), value).toThrow();
    }
  });

  it('matches addresses, CIDRs and loopback, IPv4-mapped addresses included', () => {
    const trust = trustProxy('loopback, 10.0.0.0/8, 2001:db8::1');
    for (const address of ['127.0.0.1', '::1', '::ffff:127.0.0.1', '10.20.30.40', '2001:db8::1']) {
      expect(trust(address, 0), address).toBe(true);
    }
    for (const address of ['192.0.2.1', '11.0.0.1', '2001:db8::2', 'garbage']) {
      expect(trust(address, 0), address).toBe(false);
    }
  });

  it('as a hop count, trusts that many hops nearest to the server', () => {
    const trust = trustProxy('2');
    expect([0, 1, 2].map((hop) => trust('192.0.2.1', hop))).toEqual([true, true, false]);
  });
});

describe('what the web server tells Next.js and the API', () => {
  it('replaces every claim of a direct client by what the socket shows', () => {
    const req = request({ peer: '203.0.113.5', headers: claims });
    expect(replaceForwardedHeaders(req, trustProxy(undefined))).toEqual({
      client: '203.0.113.5',
      host: 'ui.example:3000',
      proto: 'http',
    });
    expect(req.headers).toEqual({
      host: 'ui.example:3000',
      'x-forwarded-for': '203.0.113.5',
      'x-forwarded-host': 'ui.example:3000',
      'x-forwarded-proto': 'http',
    });
  });

  it('behind a trusted proxy, takes the address it added (not what the client claimed to it)', () => {
    const req = request({
      peer: '127.0.0.1',
      headers: {
        ...claims,
        'x-forwarded-for': '198.51.100.1, 203.0.113.7',
        'x-forwarded-host': 'ui.example',
      },
    });
    expect(replaceForwardedHeaders(req, trustProxy('loopback'))).toEqual({
      client: '203.0.113.7',
      host: 'ui.example',
      proto: 'https',
    });
    expect(req.headers['x-forwarded-for']).toBe('203.0.113.7');
    expect(req.headers['x-real-ip']).toBeUndefined();
    expect(req.headers.forwarded).toBeUndefined();
  });

  it('walks through trusted hops to the first untrusted one, or to the farthest', () => {
    const trust = trustProxy('127.0.0.1,10.0.0.0/8');
    const chain = (xff: string) =>
      seenBy(request({ peer: '127.0.0.1', headers: { 'x-forwarded-for': xff } }), trust).client;
    expect(chain('198.51.100.9, 198.51.100.3, 10.1.2.3')).toBe('198.51.100.3');
    expect(chain('10.0.0.5')).toBe('10.0.0.5');
    // An entry that is no address ends the walk at the hop before it.
    expect(chain('198.51.100.3, unknown, 10.1.2.3')).toBe('10.1.2.3');
    expect(chain('garbage')).toBe('127.0.0.1');
  });

  it('with a hop count, takes the entry that many hops away', () => {
    const req = request({
      peer: '192.0.2.1',
      headers: { 'x-forwarded-for': '198.51.100.1, 198.51.100.5' },
    });
    expect(seenBy(req, trustProxy('1')).client).toBe('198.51.100.5');
  });

  it('shows IPv4 clients of a dual-stack socket as IPv4, and TLS sockets as https', () => {
    expect(seenBy(request({ peer: '::ffff:203.0.113.8' }), trustProxy(undefined)).client).toBe(
      '203.0.113.8',
    );
    expect(seenBy(request({ peer: '::1', encrypted: true }), trustProxy(undefined)).proto).toBe(
      'https',
    );
  });
});

describe("the pages' Content Security Policy", () => {
  const scriptSrc = (policy: string) => policy.split('; ').find((d) => d.startsWith('script-src'));

  it('admits scripts by nonce only; eval in next dev alone; upgrades requests behind TLS', () => {
    const plain = contentSecurityPolicy({ nonce: 'abc', secure: false, dev: false });
    expect(scriptSrc(plain)).toBe("script-src 'self' 'nonce-abc' 'strict-dynamic'");
    expect(plain).not.toContain('upgrade-insecure-requests');
    const dev = contentSecurityPolicy({ nonce: 'abc', secure: false, dev: true });
    expect(scriptSrc(dev)).toBe("script-src 'self' 'nonce-abc' 'strict-dynamic' 'unsafe-eval'");
    const secure = contentSecurityPolicy({ nonce: 'abc', secure: true, dev: false });
    expect(secure.endsWith('; upgrade-insecure-requests')).toBe(true);
  });
});

describe('the web server settings', () => {
  const load = (env: Record<string, string>, port?: string) =>
    loadWebConfig(env, { dev: false, port });

  it('reads the API address, the port and COOKIE_SECURE as the API does', () => {
    const config = load({ API_HOST: '0.0.0.0', API_PORT: '9090', WEB_PORT: '4000' });
    expect(config.apiOrigin.href).toBe('http://127.0.0.1:9090/');
    expect(config.port).toBe(4000);
    expect(config.secure).toBe(false);
    expect(load({ API_HOST: '::1' }).apiOrigin.host).toBe('[::1]:8080');
    expect(load({}, '5000').port).toBe(5000);
    expect(load({ NODE_ENV: 'production' }).secure).toBe(true);
    expect(load({ NODE_ENV: 'production', COOKIE_SECURE: 'false' }).secure).toBe(false);
  });

  it('stops on a bad value, naming the variable', () => {
    const cases: Array<[Record<string, string>, string]> = [
      [{ WEB_TRUST_PROXY: 'true' }, 'WEB_TRUST_PROXY'],
      [{ WEB_TRUST_PROXY: '10.0.0.0/99' }, 'WEB_TRUST_PROXY'],
      [{ COOKIE_SECURE: 'maybe' }, 'COOKIE_SECURE'],
      [{ API_PORT: '99999' }, 'API_PORT'],
      [{ WEB_PORT: 'web' }, 'WEB_PORT'],
    ];
    for (const [env, variable] of cases) {
      expect(() => load(env), variable).toThrow(ConfigError);
      expect(() => load(env), variable).toThrow(new RegExp(`^${variable}: `));
    }
  });

  it('exits 78 with the message, before starting anything', () => {
    const run = spawnSync(
      process.execPath,
      [fileURLToPath(new URL('../server/main.mjs', import.meta.url))],
      {
        encoding: 'utf8',
        env: { ...process.env, WEB_TRUST_PROXY: 'true' },
      },
    );
    expect(run.status).toBe(78);
    expect(run.stderr).toMatch(/^accountdb-web: configuration error: WEB_TRUST_PROXY: .*"true"/);
  });
});
