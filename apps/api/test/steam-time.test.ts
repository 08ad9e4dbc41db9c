import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { steamTimeFinding } from '../src/cli/doctor.js';
import { currentCode } from '../src/modules/accounts/totp.js';
import { queryServerTime } from '../src/modules/steam-time/query-time.js';
import {
  STEAM_TIME_REFRESH_MS,
  STEAM_TIME_RETRY_MS,
  SteamClock,
} from '../src/modules/steam-time/steam-clock.js';
import { randomName, type TestUser } from './helpers/factories.js';
import {
  baseEnv,
  freePort,
  killServers,
  start,
  stop,
  until,
  waitHealthy,
} from './helpers/server-process.js';
import type { TestApp } from './helpers/test-app.js';
import { type ApiCall, twoUsers } from './helpers/two-users.js';

/**
 * Steam's clock for Steam Guard codes, against a local fake standing in for Steam's
 * ITwoFactorService/QueryTime on a real port.
 *
 * Facts about the real service (from the public sources, not copied):
 * - DoctorMcKay/node-steam-totp, index.js getTimeOffset: POST
 *   https://api.steampowered.com/ITwoFactorService/QueryTime/v1/ with Content-Length 0; a
 *   status other than 200 is an error; reads JSON `.response.server_time`; the offset is
 *   server_time − the local Unix seconds (Math.floor(Date.now() / 1000)).
 * - Jessecar96/SteamDesktopAuthenticator → geel9/SteamAuth, TimeAligner.cs + APIEndpoints.cs:
 *   POST (UploadString, body "steamid=0") to
 *   https://api.steampowered.com/ITwoFactorService/QueryTime/v0001; reads
 *   `response.server_time` as a long; offset = server_time − local Unix seconds.
 * - dyc3/steamguard-cli, QueryTimeResponse: server_time, skew_tolerance_seconds and
 *   large_time_jink are strings of digits in the answer; the probe fields are numbers.
 * - Steam Guard code (node-steam-totp generateAuthCode): HMAC-SHA1(secret, 8-byte big-endian
 *   floor(time / 30)); 31 bits at offset hmac[19] & 0x0f; five characters of
 *   23456789BCDFGHJKMNPQRTVWXY, least significant first.
 *
 * Known answers, computed independently with Python's hmac/hashlib/struct (not this code):
 *   key = base64 "QWNjb3VudERCLXN0ZWFtLXRpbWU=" (the 20 ASCII bytes "AccountDB-steam-time")
 *   mac = hmac.new(key, struct.pack('>Q', t // 30), hashlib.sha1).digest()
 *   o = mac[19] & 15; v = struct.unpack('>I', mac[o:o+4])[0] & 0x7fffffff; 5 × (alphabet[v % 26]; v //= 26)
 *   t = 1_700_000_000 → FT2H5;  t = 1_699_996_400 → T6X57;  t = 1_700_000_010 → Y4X2C
 *   (and the existing vector cnOgv/KdpLoP6Nbh0GMkXkPXALQ= at 1_700_000_000 → X45RP, which
 *   totp.test.ts states too).
 */

const SECRET = 'QWNjb3VudERCLXN0ZWFtLXRpbWU=';
/** Steam's time in the fake's answer. */
const STEAM_T = 1_700_000_000;
/** The local clock: an hour (and 0.4 s) behind Steam's. */
const LOCAL_MS = (STEAM_T - 3600) * 1000 + 400;
const AT_STEAM_T = 'FT2H5';
const AT_LOCAL_T = 'T6X57';

// ---- the fake Steam ----------------------------------------------------------------------

interface Seen {
  method: string;
  path: string;
  contentLength: string | undefined;
  body: string;
}
type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;

const seen: Seen[] = [];
let handler: Handler;
let fake: http.Server;
let fakeUrl: string;
const PATH = '/ITwoFactorService/QueryTime/v0001';

/** Steam's answer shape (steamguard-cli's QueryTimeResponse), server_time a string. */
function steamBody(serverTime: unknown): string {
  return JSON.stringify({
    response: {
      server_time: serverTime,
      skew_tolerance_seconds: '60',
      large_time_jink: '86400',
      probe_frequency_seconds: 3600,
      adjusted_time_probe_frequency_seconds: 300,
      hint_probe_frequency_seconds: 60,
      sync_timeout: 60,
      try_again_seconds: 900,
      max_attempts: 3,
    },
  });
}
const answerWith =
  (serverTime: unknown): Handler =>
  (_req, res) => {
    res.writeHead(200, { 'content-type': 'application/json; charset=utf-8' });
    res.end(steamBody(serverTime));
  };
const failWith =
  (status: number): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/plain' });
    res.end('no');
  };

beforeAll(async () => {
  fake = http.createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => {
      body += d;
    });
    req.on('end', () => {
      seen.push({
        method: req.method ?? '',
        path: req.url ?? '',
        contentLength: req.headers['content-length'],
        body,
      });
      handler(req, res);
    });
  });
  await new Promise<void>((resolve) => fake.listen(0, '127.0.0.1', resolve));
  fakeUrl = `http://127.0.0.1:${(fake.address() as AddressInfo).port}${PATH}`;
});
afterAll(async () => {
  fake.closeAllConnections();
  await new Promise((resolve) => fake.close(resolve));
});
beforeEach(() => {
  seen.length = 0;
  handler = answerWith(String(STEAM_T));
});
afterEach(() => killServers());

function recorder() {
  const lines: Array<{ level: 'info' | 'warn'; msg: string; obj: object }> = [];
  return {
    lines,
    log: {
      info: (obj: object, msg: string) => lines.push({ level: 'info', msg, obj }),
      warn: (obj: object, msg: string) => lines.push({ level: 'warn', msg, obj }),
    },
  };
}

const query = (extra: { timeoutMs?: number; maxBytes?: number } = {}) =>
  queryServerTime({ url: fakeUrl, now: () => LOCAL_MS, ...extra });

// ---- one question -------------------------------------------------------------------------

describe('queryServerTime: asks as Steam clients do and reads Steam answer', () => {
  it('POSTs an empty body to the QueryTime path and takes server_time − local seconds', async () => {
    const answer = await query();
    expect(answer).toEqual({ serverTime: STEAM_T, localMs: LOCAL_MS, offsetS: 3600 });
    expect(seen).toEqual([{ method: 'POST', path: PATH, contentLength: '0', body: '' }]);
  });

  it('takes server_time as a JSON integer too, and a local clock ahead of Steam', async () => {
    handler = answerWith(STEAM_T);
    const answer = await queryServerTime({ url: fakeUrl, now: () => (STEAM_T + 42) * 1000 });
    expect(answer.offsetS).toBe(-42);
  });
});

describe('queryServerTime: hostile or broken answers are bounded failures', () => {
  it.each<[string, Handler, RegExp]>([
    ['HTTP 500', failWith(500), /answered HTTP 500/],
    ['HTTP 404', failWith(404), /answered HTTP 404/],
    [
      'a redirect',
      (_req, res) => {
        res.writeHead(302, { location: `${PATH}/elsewhere` });
        res.end();
      },
      /redirect \(HTTP 302\), which is not followed/,
    ],
    [
      'text that is not JSON',
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<html>maintenance</html>');
      },
      /not JSON/,
    ],
    [
      'JSON nested 10,000 deep',
      (_req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`${'['.repeat(5000)}${']'.repeat(5000)}`);
      },
      /not JSON/,
    ],
    ['no server_time', (_req, res) => res.end('{"response":{}}'), /response\.server_time/],
    ['no response', (_req, res) => res.end('[1,2,3]'), /response\.server_time/],
    ['server_time of letters', answerWith('17000abc'), /response\.server_time/],
    ['server_time negative', answerWith('-5'), /response\.server_time/],
    ['server_time zero', answerWith(0), /response\.server_time/],
    ['server_time a fraction', answerWith(1_700_000_000.5), /response\.server_time/],
    ['server_time huge', answerWith(1e300), /response\.server_time/],
    ['server_time an object', answerWith({ $gt: 1 }), /response\.server_time/],
    [
      'server_time 2 days ahead (absurd offset)',
      answerWith(String(STEAM_T - 3600 + 2 * 86_400)),
      /more than 86400 s\): refused/,
    ],
    [
      'server_time 2 days behind (absurd offset)',
      answerWith(String(STEAM_T - 3600 - 2 * 86_400)),
      /more than 86400 s\): refused/,
    ],
    [
      'a declared 1 MiB body',
      (_req, res) => {
        res.writeHead(200, { 'content-length': String(1024 * 1024) });
        res.end(' '.repeat(1024 * 1024));
      },
      /larger than 16384 bytes/,
    ],
  ])('%s', async (_what, h, message) => {
    handler = h;
    await expect(query()).rejects.toThrow(message);
  });

  it('follows no redirect: the target is never asked', async () => {
    handler = (req, res) => {
      if (req.url === PATH) {
        res.writeHead(307, { location: `${PATH}?moved=1` });
        res.end();
      } else answerWith(String(STEAM_T))(req, res);
    };
    await expect(query()).rejects.toThrow(/redirect/);
    expect(seen.map((s) => s.path)).toEqual([PATH]);
  });

  it('stops reading an endless body without a length at the limit, and fast', async () => {
    let written = 0;
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const pump = () => {
        while (!res.destroyed && written < 1024 * 1024 * 1024) {
          written += chunk.length;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
      };
      pump();
    };
    const t0 = Date.now();
    await expect(query()).rejects.toThrow(/larger than 16384 bytes/);
    expect(Date.now() - t0).toBeLessThan(3000);
    // The source was cut off long before its gigabyte.
    expect(written).toBeLessThan(64 * 1024 * 1024);
  });

  it('counts the body after decompression: a 10 MiB gzip bomb is refused at the limit', async () => {
    const bomb = gzipSync(Buffer.alloc(10 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(16 * 1024); // small on the wire, under the byte limit
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      res.end(bomb);
    };
    await expect(query()).rejects.toThrow(/larger than 16384 bytes/);
  });

  it('gives up on a source that never answers, at the timeout', async () => {
    handler = () => undefined; // holds the request open
    const t0 = Date.now();
    await expect(query({ timeoutMs: 300 })).rejects.toThrow(/no complete answer within 0.3 s/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('gives up on a body that trickles, at the timeout', async () => {
    handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"response":');
      const timer = setInterval(() => res.write(' '), 50);
      res.on('close', () => clearInterval(timer));
    };
    const t0 = Date.now();
    await expect(query({ timeoutMs: 400 })).rejects.toThrow(/no complete answer within 0.4 s/);
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('says when nothing listens', async () => {
    const closed = await freePort();
    await expect(queryServerTime({ url: `http://127.0.0.1:${closed}${PATH}` })).rejects.toThrow(
      /could not reach the source \(ECONNREFUSED\)/,
    );
  });
});

// ---- the clock ----------------------------------------------------------------------------

describe('SteamClock', () => {
  it('refreshes hourly by default, sooner after a failure', () => {
    expect(STEAM_TIME_REFRESH_MS).toBe(60 * 60 * 1000);
    expect(STEAM_TIME_RETRY_MS).toBeLessThan(STEAM_TIME_REFRESH_MS);
  });

  it('is off without a URL: local clock, nothing asked', async () => {
    const { log, lines } = recorder();
    const clock = new SteamClock({ url: undefined, log, now: () => LOCAL_MS });
    clock.start();
    await clock.refresh();
    expect(seen).toEqual([]);
    expect(lines).toEqual([]);
    expect(clock.status()).toEqual({
      enabled: false,
      source: 'local',
      offset_s: 0,
      checked_at: null,
    });
    expect(clock.codeClock()).toEqual({ nowMs: LOCAL_MS, steamOffsetS: 0 });
  });

  it('falls back to the local clock on failure, warns once per change, and recovers', async () => {
    const { log, lines } = recorder();
    let now = LOCAL_MS;
    const clock = new SteamClock({ url: fakeUrl, log, now: () => now });
    expect(clock.status()).toMatchObject({ enabled: true, source: 'local', checked_at: null });

    await clock.refresh();
    expect(clock.status()).toEqual({
      enabled: true,
      source: 'steam',
      offset_s: 3600,
      checked_at: new Date(LOCAL_MS).toISOString(),
    });
    expect(lines.map((l) => l.level)).toEqual(['info']);

    // Three failures of different kinds: one warning, the local clock, the last reason shown.
    handler = failWith(503);
    now += 1000;
    await clock.refresh();
    handler = (_req, res) => res.end('not json');
    await clock.refresh();
    handler = answerWith(String(STEAM_T + 5 * 86_400));
    now += 1000;
    await clock.refresh();
    const failed = clock.status();
    expect(failed).toMatchObject({
      source: 'local',
      offset_s: 0,
      checked_at: new Date(now).toISOString(),
    });
    expect(failed.warning).toMatch(/refused.*local clock/);
    expect(clock.offsetS()).toBe(0);
    expect(lines.map((l) => l.level)).toEqual(['info', 'warn']);
    expect(lines[1]?.msg).toMatch(/HTTP 503/);

    handler = answerWith(String(STEAM_T + 1));
    await clock.refresh();
    expect(clock.status()).toMatchObject({ source: 'steam', offset_s: 3600 - 2 + 1 });
    expect(clock.status().warning).toBeUndefined();
    expect(lines.map((l) => l.level)).toEqual(['info', 'warn', 'info']);

    handler = failWith(500);
    await clock.refresh();
    expect(lines.map((l) => l.level)).toEqual(['info', 'warn', 'info', 'warn']);
  });

  it('asks again on its interval (retry interval after a failure), and stop ends it', async () => {
    const { log } = recorder();
    handler = failWith(500);
    const clock = new SteamClock({ url: fakeUrl, log, refreshMs: 1500, retryMs: 50 });
    clock.start();
    clock.start(); // a second start changes nothing
    await until(fakeProcess, 'three retries', () => seen.length >= 3);
    expect(clock.status().source).toBe('local');
    handler = answerWith(String(Math.floor(Date.now() / 1000) + 7));
    const okAt = seen.length;
    await until(fakeProcess, 'an answer', () => clock.status().source === 'steam');
    // After a success the next question waits the (longer) refresh interval, then comes.
    const afterOk = seen.length;
    expect(afterOk).toBe(okAt + 1);
    await new Promise((r) => setTimeout(r, 300));
    expect(seen.length).toBe(afterOk);
    await until(fakeProcess, 'the refresh', () => seen.length > afterOk);
    clock.stop();
    const stoppedAt = seen.length;
    await new Promise((r) => setTimeout(r, 600));
    expect(seen.length).toBeLessThanOrEqual(stoppedAt + 1);
  });

  it('does not hold up its start: start returns while the source is silent', async () => {
    const { log } = recorder();
    handler = () => undefined;
    const clock = new SteamClock({ url: fakeUrl, log, query: { timeoutMs: 10_000 } });
    const t0 = Date.now();
    clock.start();
    expect(Date.now() - t0).toBeLessThan(50);
    await until(fakeProcess, 'the question', () => seen.length === 1);
    expect(clock.status()).toMatchObject({ source: 'local', checked_at: null });
    // Stop aborts the question in flight; nothing is recorded about it.
    clock.stop();
    await clock.refresh();
    expect(clock.status()).toMatchObject({ source: 'local', checked_at: null });
  });
});

/** until() from the server helpers wants a process; the fake never exits. */
const fakeProcess = {
  child: { exitCode: null, signalCode: null },
  stdout: () => '',
  stderr: () => '',
} as unknown as Parameters<typeof until>[0];

// ---- codes --------------------------------------------------------------------------------

describe('currentCode with Steam offset (known answers)', () => {
  it('moves Steam codes by the offset and leaves standard TOTP on the local clock', () => {
    expect(currentCode({ shared_secret: SECRET }, { nowMs: LOCAL_MS })?.code).toBe(AT_LOCAL_T);
    expect(currentCode({ shared_secret: SECRET }, { nowMs: LOCAL_MS, steamOffsetS: 3600 })).toEqual(
      { code: AT_STEAM_T, period: 30, remaining_s: 10, kind: 'steam' },
    );
    expect(
      currentCode({ shared_secret: SECRET }, { nowMs: LOCAL_MS, steamOffsetS: 3610 })?.code,
    ).toBe('Y4X2C');
    // RFC 6238 secret: the code at the local time, whatever Steam's offset.
    const rfc = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';
    expect(currentCode({ totp_secret: rfc }, { nowMs: 59_000, steamOffsetS: 3600 })?.code).toBe(
      '287082',
    );
  });
});

// ---- the API ------------------------------------------------------------------------------

describe('the API with a fake Steam time source', () => {
  let t: TestApp;
  let alice: TestUser;
  let bob: TestUser;
  let call: ApiCall;
  let clock: SteamClock;
  let steamId: string;
  let totpId: string;
  const rec = recorder();
  const health = async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/health' });
    return { status: res.statusCode, body: res.json() };
  };
  const code = async (id: string, who = alice) => call(who, 'GET', `/accounts/${id}/totp`);

  beforeAll(async () => {
    clock = new SteamClock({ url: fakeUrl, log: rec.log, now: () => LOCAL_MS });
    ({ t, alice, bob, call } = await twoUsers({ steamClock: clock }));
    const made = await call(alice, 'POST', '/accounts', {
      username: randomName('steam'),
      shared_secret: SECRET,
    });
    expect(made.statusCode, made.body).toBe(201);
    steamId = made.json().id;
    const other = await call(alice, 'POST', '/accounts', {
      username: randomName('totp'),
      totp_secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
    });
    totpId = other.json().id;
  });
  afterAll(async () => t?.close());

  it('uses the local clock before the source answered, and says so in health', async () => {
    expect((await code(steamId)).json()).toMatchObject({ code: AT_LOCAL_T, kind: 'steam' });
    expect(await health()).toEqual({
      status: 200,
      body: expect.objectContaining({
        status: 'ok',
        db: 'ok',
        steam_time: { enabled: true, source: 'local', offset_s: 0, checked_at: null },
      }),
    });
  });

  it("makes Steam codes at Steam's time once the source answered (known answer)", async () => {
    await clock.refresh();
    const res = await code(steamId);
    expect(res.json()).toEqual({ code: AT_STEAM_T, period: 30, remaining_s: 10, kind: 'steam' });
    expect((await health()).body.steam_time).toEqual({
      enabled: true,
      source: 'steam',
      offset_s: 3600,
      checked_at: new Date(LOCAL_MS).toISOString(),
    });
    // Standard TOTP stays on the local clock.
    expect((await code(totpId)).json().code).toBe(
      currentCode({ totp_secret: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ' }, { nowMs: LOCAL_MS })?.code,
    );
    // Another user still cannot read the code.
    expect((await code(steamId, bob)).statusCode).toBe(404);
  });

  it('on failure: local clock, a warning in health, health still 200 ok; then recovery', async () => {
    handler = (_req, res) => {
      res.writeHead(301, { location: 'http://127.0.0.1:1/' });
      res.end();
    };
    await clock.refresh();
    const failed = await health();
    expect(failed.status).toBe(200);
    expect(failed.body).toMatchObject({ status: 'ok', db: 'ok' });
    expect(failed.body.steam_time).toMatchObject({ source: 'local', offset_s: 0 });
    expect(failed.body.steam_time.warning).toMatch(/redirect.*local clock/);
    expect((await code(steamId)).json().code).toBe(AT_LOCAL_T);

    handler = answerWith(String(STEAM_T));
    await clock.refresh();
    expect((await health()).body.steam_time).toMatchObject({ source: 'steam', offset_s: 3600 });
    expect((await health()).body.steam_time.warning).toBeUndefined();
    expect((await code(steamId)).json().code).toBe(AT_STEAM_T);
    expect(rec.lines.map((l) => l.level)).toEqual(['info', 'warn', 'info']);
  });
});

// ---- doctor -------------------------------------------------------------------------------

describe('accountdb doctor: the Steam time source', () => {
  it('reports off, an answering source, and a failing one (a warning)', async () => {
    expect(await steamTimeFinding({ steamTimeUrl: undefined })).toMatchObject({ verdict: 'ok' });
    handler = answerWith(String(Math.floor(Date.now() / 1000) + 1));
    const ok = await steamTimeFinding({ steamTimeUrl: fakeUrl });
    expect(ok).toMatchObject({ verdict: 'ok', check: 'Steam time source' });
    expect(ok.detail).toMatch(/answers; Steam's clock is [012] s from this host's/);
    handler = answerWith(String(Math.floor(Date.now() / 1000) + 600));
    expect(await steamTimeFinding({ steamTimeUrl: fakeUrl })).toMatchObject({
      verdict: 'warn',
      detail: expect.stringMatching(/this host's clock is -?\d+ s off Steam's/),
    });
    handler = failWith(502);
    expect(await steamTimeFinding({ steamTimeUrl: fakeUrl })).toMatchObject({
      verdict: 'warn',
      detail: expect.stringMatching(/answered HTTP 502/),
    });
  });
});

// ---- the server process -------------------------------------------------------------------

describe('the server process with ACCOUNTDB_STEAM_TIME_URL', () => {
  it('starts without waiting for the source, then shows its offset in health', async () => {
    let release: () => void = () => undefined;
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    handler = (req, res) => {
      void released.then(() => answerWith(String(Math.floor(Date.now() / 1000) + 120))(req, res));
    };
    const dataDir = mkdtempSync(path.join(tmpdir(), 'adb-steam-time-'));
    try {
      const port = await freePort();
      const server = start(
        {
          ...baseEnv(),
          ACCOUNTDB_DATA_DIR: dataDir,
          API_PORT: String(port),
          API_HOST: '127.0.0.1',
          ACCOUNTDB_STEAM_TIME_URL: fakeUrl,
        },
        port,
      );
      await waitHealthy(server);
      await until(server, 'the question to the source', () => seen.length === 1);
      // Healthy while the source has not answered: local clock, not checked yet.
      const before = (await (await fetch(`${server.url}/api/health`)).json()) as {
        steam_time: unknown;
      };
      expect(before.steam_time).toEqual({
        enabled: true,
        source: 'local',
        offset_s: 0,
        checked_at: null,
      });
      release();
      let after: { steam_time: { source: string; offset_s: number } } | undefined;
      await until(server, 'the offset in health', async () => {
        after = (await (await fetch(`${server.url}/api/health`)).json()) as typeof after;
        return after?.steam_time.source === 'steam';
      });
      // The fake's seconds and the server's may tick apart between answer and reading.
      expect([119, 120, 121]).toContain(after?.steam_time.offset_s);
      expect(seen[0]).toMatchObject({ method: 'POST', path: PATH, body: '' });
      expect(server.stdout()).toMatch(/Steam time source answers/);
      expect(await stop(server)).toBe(0);
    } finally {
      rmSync(dataDir, { recursive: true, force: true });
    }
  }, 90_000);
});
