import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ConfigError,
  DEFAULT_CLUSTER_CA,
  describeConfig,
  loadSettings,
  normaliseFingerprint,
  parseEnvFile,
  readConfigSources,
} from '../src/config.js';
import { AGENT_VERSION } from '../src/version.js';

const PEM = '-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n';
const FP =
  'ab:CD:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89:ab:cd:ef:01:23:45:67:89';

const base = {
  ACCOUNTDB_URL: 'https://accountdb.example.com',
  ACCOUNTDB_NODE_KEY: 'adb_node_abcdefghijklmnopqrstuvwxyz012345',
  PVE_TOKEN_ID: 'accountdb@pve!sync',
  PVE_TOKEN_SECRET: '5f0c7a9e-1111-2222-3333-444455556666',
};
const noCaFile = { fileExists: () => false, readFile: () => PEM };

function fails(env: Record<string, string | undefined>): ConfigError {
  try {
    loadSettings(env, noCaFile);
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('loaded');
}

describe('configuration', () => {
  it('applies the documented defaults', () => {
    const s = loadSettings(base, noCaFile);
    expect(s).toMatchObject({
      accountdbUrl: 'https://accountdb.example.com',
      pveUrl: 'https://127.0.0.1:8006',
      pveTls: { mode: 'system' },
      pveNode: undefined,
      syncIntervalS: 60,
      healthPort: 9587,
      healthHost: '127.0.0.1',
      logLevel: 'info',
      stateFile: undefined,
    });
  });

  it('uses the cluster CA automatically on the Proxmox host itself', () => {
    const s = loadSettings(base, {
      fileExists: (p) => p === DEFAULT_CLUSTER_CA,
      readFile: () => PEM,
    });
    expect(s.pveTls).toEqual({ mode: 'ca', caFile: DEFAULT_CLUSTER_CA, ca: PEM });
    // Not for a remote Proxmox: its certificate may be an ACME one.
    expect(
      loadSettings(
        { ...base, PVE_URL: 'https://pve1.lab:8006' },
        { fileExists: () => true, readFile: () => PEM },
      ).pveTls.mode,
    ).toBe('system');
  });

  it('takes the cluster CA from the systemd credential when /etc/pve is not readable', () => {
    const cred = '/run/credentials/accountdb-agent.service/pve-root-ca.pem';
    const options = {
      fileExists: (p: string) => p === cred,
      readFile: (p: string) => {
        if (p !== cred) throw new Error('EACCES');
        return PEM;
      },
    };
    const env = { ...base, CREDENTIALS_DIRECTORY: '/run/credentials/accountdb-agent.service' };
    expect(loadSettings(env, options).pveTls).toEqual({ mode: 'ca', caFile: cred, ca: PEM });
    expect(loadSettings({ ...env, PVE_CA_FILE: DEFAULT_CLUSTER_CA }, options).pveTls).toEqual({
      mode: 'ca',
      caFile: cred,
      ca: PEM,
    });
  });

  it('accepts one TLS option: CA file, fingerprint pin or explicit insecure', () => {
    expect(
      loadSettings({ ...base, PVE_CA_FILE: '/etc/pve/pve-root-ca.pem' }, noCaFile).pveTls.mode,
    ).toBe('ca');
    expect(loadSettings({ ...base, PVE_FINGERPRINT: FP }, noCaFile).pveTls).toEqual({
      mode: 'fingerprint',
      fingerprint:
        'AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89:AB:CD:EF:01:23:45:67:89',
    });
    expect(loadSettings({ ...base, PVE_INSECURE: 'true' }, noCaFile).pveTls.mode).toBe('insecure');
    expect(loadSettings({ ...base, PVE_INSECURE: 'false' }, noCaFile).pveTls.mode).toBe('system');
    expect(loadSettings({ ...base, PVE_URL: 'http://127.0.0.1:8006' }, noCaFile).pveTls.mode).toBe(
      'plain',
    );
    expect(fails({ ...base, PVE_CA_FILE: '/x.pem', PVE_FINGERPRINT: FP }).message).toMatch(
      /set only one of/,
    );
    expect(fails({ ...base, PVE_FINGERPRINT: FP, PVE_INSECURE: 'true' }).variable).toBe(
      'PVE_INSECURE',
    );
  });

  it('normalises fingerprints', () => {
    expect(normaliseFingerprint(FP.replace(/:/g, ''))).toMatch(/^AB:CD:EF/);
    expect(normaliseFingerprint(`sha256:${FP}`)).toMatch(/^AB:CD/);
    expect(normaliseFingerprint('AB:CD')).toBeUndefined();
  });

  it('stops on a bad value, naming the variable', () => {
    const cases: [Record<string, string | undefined>, string][] = [
      [{ ...base, ACCOUNTDB_URL: undefined }, 'ACCOUNTDB_URL'],
      [{ ...base, ACCOUNTDB_URL: 'ftp://x' }, 'ACCOUNTDB_URL'],
      [{ ...base, ACCOUNTDB_URL: 'not a url' }, 'ACCOUNTDB_URL'],
      [{ ...base, ACCOUNTDB_NODE_KEY: 'adb_pat_abcdefghijkl' }, 'ACCOUNTDB_NODE_KEY'],
      [{ ...base, PVE_URL: 'https://user:pw@pve:8006' }, 'PVE_URL'],
      [{ ...base, PVE_TOKEN_ID: 'root@pam' }, 'PVE_TOKEN_ID'],
      [{ ...base, PVE_TOKEN_SECRET: '' }, 'PVE_TOKEN_SECRET'],
      [{ ...base, PVE_FINGERPRINT: 'AB:CD' }, 'PVE_FINGERPRINT'],
      [{ ...base, PVE_INSECURE: 'maybe' }, 'PVE_INSECURE'],
      [{ ...base, PVE_NODE: 'bad node' }, 'PVE_NODE'],
      [{ ...base, SYNC_INTERVAL: '5' }, 'SYNC_INTERVAL'],
      [{ ...base, SYNC_INTERVAL: '1m' }, 'SYNC_INTERVAL'],
      [{ ...base, HEALTH_PORT: '70000' }, 'HEALTH_PORT'],
      [{ ...base, LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    ];
    for (const [env, variable] of cases) expect(fails(env).variable).toBe(variable);
    expect(() => loadSettings({ ...base, PVE_CA_FILE: '/nope.pem' })).toThrow(
      /PVE_CA_FILE: cannot read/,
    );
    expect(() =>
      loadSettings({ ...base, PVE_CA_FILE: '/x.pem' }, { readFile: () => 'hello' }),
    ).toThrow(/no PEM certificate/);
  });

  it('strips API suffixes from the URLs, and HEALTH_PORT=off disables the endpoint', () => {
    const s = loadSettings(
      {
        ...base,
        ACCOUNTDB_URL: 'https://a.example/api/v1/',
        PVE_URL: 'https://pve:8006/api2/json',
        HEALTH_PORT: 'off',
        SYNC_INTERVAL: '30',
      },
      noCaFile,
    );
    expect(s.accountdbUrl).toBe('https://a.example');
    expect(s.pveUrl).toBe('https://pve:8006');
    expect(s.healthPort).toBeUndefined();
    expect(s.syncIntervalS).toBe(30);
  });

  it('reads KEY=VALUE files with comments, quotes and export', () => {
    expect(
      parseEnvFile(
        [
          '# AccountDB agent',
          '',
          'ACCOUNTDB_URL=https://a.example',
          'export PVE_NODE=pve1',
          'PVE_TOKEN_SECRET="quoted # not a comment"',
          "LOG_LEVEL='debug'",
          'SYNC_INTERVAL=30   # seconds',
          'EMPTY=',
        ].join('\n'),
      ),
    ).toEqual({
      ACCOUNTDB_URL: 'https://a.example',
      PVE_NODE: 'pve1',
      PVE_TOKEN_SECRET: 'quoted # not a comment',
      LOG_LEVEL: 'debug',
      SYNC_INTERVAL: '30',
      EMPTY: '',
    });
    expect(() => parseEnvFile('just words')).toThrow(/line 1: expected KEY=VALUE/);
  });

  it('reads double quotes as systemd and a shell do: " \\ $ and ` stand for the character', () => {
    expect(
      parseEnvFile(
        [
          String.raw`A="a \"quoted\" name"`,
          String.raw`B="costs \$5 \`now\` C:\\temp\\"`,
          `C="# not a comment, 'single' too"`,
          String.raw`D='$HOME \stays'`,
        ].join('\n'),
      ),
    ).toEqual({
      A: 'a "quoted" name',
      B: 'costs $5 `now` C:\\temp\\',
      C: "# not a comment, 'single' too",
      D: '$HOME \\stays',
    });
  });

  it('merges the file over the environment', () => {
    const merged = readConfigSources(
      { PVE_NODE: 'env', LOG_LEVEL: 'warn' },
      '/etc/accountdb-agent.env',
      () => 'PVE_NODE=file\n',
    );
    expect(merged).toMatchObject({ PVE_NODE: 'file', LOG_LEVEL: 'warn' });
    expect(() =>
      readConfigSources({}, '/missing', () => {
        throw new Error('ENOENT');
      }),
    ).toThrow(/--config: cannot read \/missing/);
  });

  it('describes itself without secrets', () => {
    const text = JSON.stringify(
      describeConfig(loadSettings({ ...base, PVE_FINGERPRINT: FP }, noCaFile)),
    );
    expect(text).not.toContain(base.ACCOUNTDB_NODE_KEY);
    expect(text).not.toContain(base.PVE_TOKEN_SECRET);
    expect(text).toContain('adb_node_abcd…');
    expect(text).toContain('accountdb@pve!sync');
  });

  it('keeps the agent version equal to package.json', () => {
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    expect(AGENT_VERSION).toBe(pkg.version);
  });
});
