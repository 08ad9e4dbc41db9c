import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_STEAM_TIME_URL, loadConfig } from '../src/config.js';

/** Configuration: every bad value stops the start with a ConfigError naming the variable. */

type Env = Record<string, string | undefined>;

const key = (bytes = 32) => randomBytes(bytes).toString('base64');
const made: string[] = [];
const tempDir = () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'adb-config-'));
  made.push(dir);
  return dir;
};
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

/** A valid environment that generates nothing: both keys given, a temp data dir. */
function baseEnv(extra: Env = {}): Env {
  return {
    ACCOUNTDB_DATA_DIR: tempDir(),
    ACCOUNTDB_SECRET_KEY: key(),
    ACCOUNTDB_JWT_SECRET: key(),
    ...extra,
  };
}

function configError(env: Env): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

const fileMode = (file: string) => statSync(file).mode & 0o777;

describe('loadConfig refuses bad values, naming the variable', () => {
  const cases: Array<[variable: string, bad: string[]]> = [
    ['API_PORT', ['notaport', '70000', '-1', '80.5', '0x50']],
    ['WEB_PORT', ['web', '65536']],
    ['NODE_ENV', ['staging', 'prod']],
    ['LOG_LEVEL', ['verbose', 'INFO!']],
    ['DATABASE_URL', ['mysql://db/accountdb', 'localhost:5432/accountdb']],
    ['ACCOUNTDB_REGISTRATION', ['maybe', 'yes']],
    ['REDIS_URL', ['http://redis:6379', 'redis-host:6379']],
    [
      'CORS_ORIGINS',
      ['*', 'https://ok.example.com,*', 'https://example.com/path', 'example.com', 'null'],
    ],
    ['TRUST_PROXY', ['true', 'yes', '1', 'not-an-ip', '10.0.0.0/8,evil.example.com']],
    ['COOKIE_SECURE', ['maybe', 'secure']],
    ['ACCOUNTDB_SECRET_KEY', [key(16), key(31), key(33), key(64), 'not base64 at all!', 'abc$def']],
    ['ACCOUNTDB_JWT_SECRET', [key(16), key(31), 'short', 'not base64 at all!']],
  ];

  for (const [variable, values] of cases) {
    for (const bad of values) {
      it(`${variable}=${bad.length > 40 ? `${bad.slice(0, 40)}…` : bad}`, () => {
        const err = configError(baseEnv({ [variable]: bad }));
        expect(err.variable).toBe(variable);
        expect(err.message).toContain(variable);
      });
    }
  }

  it('the values right next to the bad ones are accepted', () => {
    const config = loadConfig(
      baseEnv({
        API_PORT: '65535',
        WEB_PORT: '0',
        NODE_ENV: 'test',
        LOG_LEVEL: 'debug',
        DATABASE_URL: 'postgresql://u:p@db.example.com:5432/accountdb',
        ACCOUNTDB_REGISTRATION: 'open',
        REDIS_URL: 'rediss://cache.example.com:6380',
        CORS_ORIGINS: 'https://a.example.com, http://localhost:3000',
        TRUST_PROXY: '127.0.0.1,10.0.0.0/8',
        COOKIE_SECURE: 'false',
        ACCOUNTDB_JWT_SECRET: key(64),
      }),
    );
    expect(config).toMatchObject({
      apiPort: 65535,
      webPort: 0,
      nodeEnv: 'test',
      logLevel: 'debug',
      databaseUrl: 'postgresql://u:p@db.example.com:5432/accountdb',
      registration: 'open',
      redisUrl: 'rediss://cache.example.com:6380',
      corsOrigins: ['https://a.example.com', 'http://localhost:3000'],
      trustProxy: ['127.0.0.1', '10.0.0.0/8'],
      cookieSecure: false,
    });
    expect(config.jwtSecret).toHaveLength(64);
  });
});

describe('keys in production', () => {
  it.each([
    ['ACCOUNTDB_SECRET_KEY', { ACCOUNTDB_JWT_SECRET: key() }],
    ['ACCOUNTDB_JWT_SECRET', { ACCOUNTDB_SECRET_KEY: key() }],
    ['ACCOUNTDB_SECRET_KEY', {}],
  ])('NODE_ENV=production without %s stops, writing no key file', (variable, keys) => {
    const dir = tempDir();
    const err = configError({ NODE_ENV: 'production', ACCOUNTDB_DATA_DIR: dir, ...keys });
    expect(err.variable).toBe(variable);
    expect(err.message).toContain(variable);
    expect(err.message).toContain('production');
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a missing data dir is not even created in production', () => {
    const dir = path.join(tempDir(), 'not-yet');
    configError({ NODE_ENV: 'production', ACCOUNTDB_DATA_DIR: dir });
    expect(existsSync(dir)).toBe(false);
  });

  it('with both keys set, production starts and defaults to secure cookies', () => {
    const secret = randomBytes(32);
    const config = loadConfig({
      NODE_ENV: 'production',
      ACCOUNTDB_DATA_DIR: tempDir(),
      ACCOUNTDB_SECRET_KEY: secret.toString('base64'),
      ACCOUNTDB_JWT_SECRET: key(48),
    });
    expect(config.secretKey.equals(secret)).toBe(true);
    expect(config.generatedKeys).toEqual([]);
    expect(config.cookieSecure).toBe(true);
    expect(readdirSync(config.dataDir)).toEqual([]);
  });
});

describe('generated keys outside production', () => {
  it('are written into the data dir with mode 0600 and reused on the next load', () => {
    const dir = path.join(tempDir(), 'data');
    const first = loadConfig({ ACCOUNTDB_DATA_DIR: dir });
    expect(first.generatedKeys.sort()).toEqual(['ACCOUNTDB_JWT_SECRET', 'ACCOUNTDB_SECRET_KEY']);
    expect(first.secretKey).toHaveLength(32);
    expect(first.jwtSecret.length).toBeGreaterThanOrEqual(32);
    expect(readdirSync(dir).sort()).toEqual(['jwt.key', 'secret.key']);
    expect(fileMode(path.join(dir, 'secret.key'))).toBe(0o600);
    expect(fileMode(path.join(dir, 'jwt.key'))).toBe(0o600);
    expect(statSync(dir).mode & 0o077).toBe(0); // the directory is private too
    expect(
      Buffer.from(readFileSync(path.join(dir, 'secret.key'), 'utf8').trim(), 'base64').equals(
        first.secretKey,
      ),
    ).toBe(true);

    const second = loadConfig({ ACCOUNTDB_DATA_DIR: dir });
    expect(second.generatedKeys).toEqual([]);
    expect(second.secretKey.equals(first.secretKey)).toBe(true);
    expect(second.jwtSecret.equals(first.jwtSecret)).toBe(true);

    // Another data dir gets other keys.
    const other = loadConfig({ ACCOUNTDB_DATA_DIR: tempDir() });
    expect(other.secretKey.equals(first.secretKey)).toBe(false);
  });

  it('a key given in the environment wins over the generated file and is not written', () => {
    const dir = tempDir();
    const secret = randomBytes(32);
    const config = loadConfig({
      ACCOUNTDB_DATA_DIR: dir,
      ACCOUNTDB_SECRET_KEY: secret.toString('base64'),
    });
    expect(config.secretKey.equals(secret)).toBe(true);
    expect(config.generatedKeys).toEqual(['ACCOUNTDB_JWT_SECRET']);
    expect(readdirSync(dir)).toEqual(['jwt.key']);
  });

  it('a damaged key file stops the start, naming the variable', () => {
    const dir = tempDir();
    writeFileSync(path.join(dir, 'secret.key'), `${key(16)}\n`, { mode: 0o600 });
    const err = configError({ ACCOUNTDB_DATA_DIR: dir, ACCOUNTDB_JWT_SECRET: key() });
    expect(err.message).toContain('ACCOUNTDB_SECRET_KEY');
  });
});

describe('defaults (DESIGN section 1)', () => {
  it('match the table', () => {
    const config = loadConfig({ ACCOUNTDB_SECRET_KEY: key(), ACCOUNTDB_JWT_SECRET: key() });
    expect(config).toMatchObject({
      nodeEnv: 'development',
      databaseUrl: undefined,
      dataDir: path.resolve('./data'),
      apiHost: '127.0.0.1',
      apiPort: 8080,
      webPort: 3000,
      registration: 'closed',
      redisUrl: undefined,
      corsOrigins: [],
      logLevel: 'info',
      trustProxy: false,
      cookieSecure: false,
      generatedKeys: [],
    });
  });

  it('blank values count as unset', () => {
    const config = loadConfig(
      baseEnv({ API_PORT: '', LOG_LEVEL: '  ', CORS_ORIGINS: '', DATABASE_URL: ' ' }),
    );
    expect(config.apiPort).toBe(8080);
    expect(config.logLevel).toBe('info');
    expect(config.corsOrigins).toEqual([]);
    expect(config.databaseUrl).toBeUndefined();
  });
});

describe('ACCOUNTDB_STEAM_TIME_URL', () => {
  it("defaults to Steam's QueryTime, as node-steam-totp and SDA ask it (steam-time.test.ts)", () => {
    expect(DEFAULT_STEAM_TIME_URL).toBe(
      'https://api.steampowered.com/ITwoFactorService/QueryTime/v0001',
    );
    expect(loadConfig(baseEnv()).steamTimeUrl).toBe(DEFAULT_STEAM_TIME_URL);
  });

  it('is off with off (any case) or an empty value, and takes another http(s) source', () => {
    for (const off of ['off', 'OFF', ' Off ', '', '   ']) {
      expect(loadConfig(baseEnv({ ACCOUNTDB_STEAM_TIME_URL: off })).steamTimeUrl, off).toBe(
        undefined,
      );
    }
    expect(
      loadConfig(baseEnv({ ACCOUNTDB_STEAM_TIME_URL: 'http://10.0.0.5:8081/time' })).steamTimeUrl,
    ).toBe('http://10.0.0.5:8081/time');
  });

  it.each([
    ['not a url', /http:\/\/ or https:\/\/ URL, or off/],
    ['ftp://example.com/time', /http:\/\/ or https:\/\/ URL, or off/],
    ['file:///etc/passwd', /http:\/\/ or https:\/\/ URL, or off/],
    ['https://user:pw@example.com/time', /user name or password/],
  ])('refuses %s, naming the variable', (value, message) => {
    const err = configError(baseEnv({ ACCOUNTDB_STEAM_TIME_URL: value }));
    expect(err.variable).toBe('ACCOUNTDB_STEAM_TIME_URL');
    expect(err.message).toMatch(message);
    expect(err.message).not.toContain('pw@');
  });
});
