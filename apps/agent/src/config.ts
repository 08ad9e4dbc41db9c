import { existsSync, readFileSync } from 'node:fs';

/**
 * The agent's configuration (DESIGN section 7), read once at start from the environment and,
 * with `--config FILE`, from a KEY=VALUE file (the same format as systemd's EnvironmentFile).
 * A bad value stops the agent with a message naming the variable. Secrets (the node key and
 * the Proxmox token secret) are kept here and never logged: see `describeConfig`.
 */

export const DEFAULT_PVE_URL = 'https://127.0.0.1:8006';
export const DEFAULT_CLUSTER_CA = '/etc/pve/pve-root-ca.pem';
export const DEFAULT_HEALTH_PORT = 9587;
export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** How the agent verifies Proxmox's TLS certificate. */
export type PveTls =
  | { mode: 'ca'; caFile: string; ca: string }
  | { mode: 'fingerprint'; fingerprint: string }
  | { mode: 'insecure' }
  | { mode: 'system' }
  | { mode: 'plain' };

export interface AgentSettings {
  /** AccountDB base URL without a trailing `/api…` (the agent appends `/api/v1/agent/…`). */
  accountdbUrl: string;
  nodeKey: string;
  /** ACCOUNTDB_CA_FILE's PEM: the private CA AccountDB's certificate is checked against; system CAs otherwise. */
  accountdbCa: string | undefined;
  /** Proxmox base URL without a trailing `/api2/json`. */
  pveUrl: string;
  pveTokenId: string;
  pveTokenSecret: string;
  pveTls: PveTls;
  /** The Proxmox node to sync; undefined = the AccountDB node's name, else the node answering. */
  pveNode: string | undefined;
  /** Seconds between cycles until AccountDB's `interval_s` is known (the server's value wins). */
  syncIntervalS: number;
  /** undefined = no health server. */
  healthPort: number | undefined;
  healthHost: string;
  logLevel: LogLevel;
  /** Where `run` keeps its state for `status` and the collapse baseline; undefined = memory only. */
  stateFile: string | undefined;
}

export class ConfigError extends Error {
  constructor(
    readonly variable: string,
    detail: string,
  ) {
    super(`${variable}: ${detail}`);
    this.name = 'ConfigError';
  }
}

/** The exit code for a configuration error (sysexits EX_CONFIG); the systemd unit does not restart on it. */
export const EXIT_CONFIG = 78;

/**
 * Reads a KEY=VALUE file: `#` comments, blank lines, an optional `export ` prefix, values
 * optionally in single or double quotes. Inside double quotes \" \\ \$ and \` stand for the
 * character, as systemd's EnvironmentFile= and a POSIX shell read them (AccountDB writes the
 * file that way), and \n for a line break.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  const lines = text.split(/\r?\n/);
  for (const [index, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) throw new ConfigError(`line ${index + 1}`, 'expected KEY=VALUE');
    const key = m[1] as string;
    let value = (m[2] as string).trim();
    if (value.startsWith('"')) {
      const end = value.lastIndexOf('"');
      if (end <= 0) throw new ConfigError(key, `unterminated quote on line ${index + 1}`);
      value = value
        .slice(1, end)
        .replace(/\\(["\\$`n])/g, (_s, c: string) => (c === 'n' ? '\n' : c));
    } else if (value.startsWith("'")) {
      const end = value.lastIndexOf("'");
      if (end <= 0) throw new ConfigError(key, `unterminated quote on line ${index + 1}`);
      value = value.slice(1, end);
    } else {
      const hash = value.search(/\s#/);
      if (hash !== -1) value = value.slice(0, hash).trim();
    }
    out[key] = value;
  }
  return out;
}

/** Reads the config file and merges it over the environment (the file is the explicit choice). */
export function readConfigSources(
  env: NodeJS.ProcessEnv,
  configFile: string | undefined,
  read: (path: string) => string = (p) => readFileSync(p, 'utf8'),
): Record<string, string | undefined> {
  const file = configFile ?? env.ACCOUNTDB_AGENT_CONFIG;
  if (!file) return { ...env };
  let text: string;
  try {
    text = read(file);
  } catch (err) {
    throw new ConfigError('--config', `cannot read ${file}: ${(err as Error).message}`);
  }
  return { ...env, ...parseEnvFile(text) };
}

interface LoadOptions {
  /** For tests: does this file exist / read it (the CA file). */
  fileExists?: (path: string) => boolean;
  readFile?: (path: string) => string;
}

function value(src: Record<string, string | undefined>, key: string): string | undefined {
  const v = src[key];
  if (v === undefined) return undefined;
  const t = v.trim();
  return t === '' ? undefined : t;
}

function required(src: Record<string, string | undefined>, key: string, hint: string): string {
  const v = value(src, key);
  if (v === undefined) throw new ConfigError(key, `is required (${hint})`);
  return v;
}

function httpUrl(key: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new ConfigError(key, `is not a URL: ${JSON.stringify(raw)}`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(key, 'must be an http:// or https:// URL');
  }
  if (url.username || url.password) throw new ConfigError(key, 'must not contain credentials');
  if (url.search || url.hash) throw new ConfigError(key, 'must not contain a query or fragment');
  return url;
}

function stripPath(url: URL, suffixes: RegExp): string {
  const path = url.pathname.replace(/\/+$/, '').replace(suffixes, '');
  return `${url.protocol}//${url.host}${path}`;
}

function integer(key: string, raw: string, min: number, max: number): number {
  if (!/^\d+$/.test(raw))
    throw new ConfigError(key, `must be a whole number, got ${JSON.stringify(raw)}`);
  const n = Number(raw);
  if (n < min || n > max) throw new ConfigError(key, `must be between ${min} and ${max}, got ${n}`);
  return n;
}

/** A SHA-256 fingerprint as 32 upper-case hex pairs joined by `:` (accepts any case, with or without `:`). */
export function normaliseFingerprint(raw: string): string | undefined {
  const hex = raw
    .trim()
    .replace(/^sha256[:=]?/i, '')
    .replace(/[:\s]/g, '');
  if (!/^[0-9a-f]{64}$/i.test(hex)) return undefined;
  return (hex.toUpperCase().match(/.{2}/g) as string[]).join(':');
}

function isLoopbackHost(hostname: string): boolean {
  const h = hostname.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127\.\d+\.\d+\.\d+$/.test(h);
}

/** `$CREDENTIALS_DIRECTORY/<name of file>` when systemd passed that file as a credential. */
function credentialFile(
  src: Record<string, string | undefined>,
  file: string,
  fileExists: (path: string) => boolean,
): string | undefined {
  const dir = value(src, 'CREDENTIALS_DIRECTORY');
  if (!dir) return undefined;
  const candidate = `${dir.replace(/\/+$/, '')}/${file.split('/').pop() ?? ''}`;
  return fileExists(candidate) ? candidate : undefined;
}

/** The cluster CA, from the systemd credential or /etc/pve (run as root). */
function clusterCa(
  src: Record<string, string | undefined>,
  fileExists: (path: string) => boolean,
): string | undefined {
  return (
    credentialFile(src, DEFAULT_CLUSTER_CA, fileExists) ??
    (fileExists(DEFAULT_CLUSTER_CA) ? DEFAULT_CLUSTER_CA : undefined)
  );
}

/** Validates the merged sources into settings; throws ConfigError naming the first bad variable. */
export function loadSettings(
  src: Record<string, string | undefined>,
  options: LoadOptions = {},
): AgentSettings {
  const fileExists = options.fileExists ?? existsSync;
  const readFile = options.readFile ?? ((p: string) => readFileSync(p, 'utf8'));

  const accountdb = httpUrl(
    'ACCOUNTDB_URL',
    required(src, 'ACCOUNTDB_URL', 'the AccountDB address, e.g. https://accountdb.example.com'),
  );
  const nodeKey = required(
    src,
    'ACCOUNTDB_NODE_KEY',
    'the key shown when the node was added in AccountDB',
  );
  if (!/^adb_node_[A-Za-z0-9_-]{8,}$/.test(nodeKey)) {
    throw new ConfigError(
      'ACCOUNTDB_NODE_KEY',
      'must be the node key (adb_node_…) shown when the node was added',
    );
  }
  const accountdbCaFile = value(src, 'ACCOUNTDB_CA_FILE');
  let accountdbCa: string | undefined;
  if (accountdbCaFile !== undefined) {
    try {
      accountdbCa = readFile(accountdbCaFile);
    } catch (err) {
      throw new ConfigError(
        'ACCOUNTDB_CA_FILE',
        `cannot read ${accountdbCaFile}: ${(err as Error).message}`,
      );
    }
  }

  const pve = httpUrl('PVE_URL', value(src, 'PVE_URL') ?? DEFAULT_PVE_URL);
  const pveTokenId = required(src, 'PVE_TOKEN_ID', 'the API token id, e.g. accountdb@pve!sync');
  if (!/^[^\s@!]+@[^\s@!]+![A-Za-z][A-Za-z0-9._-]*$/.test(pveTokenId)) {
    throw new ConfigError(
      'PVE_TOKEN_ID',
      'must look like USER@REALM!TOKENNAME, e.g. accountdb@pve!sync',
    );
  }
  const pveTokenSecret = required(
    src,
    'PVE_TOKEN_SECRET',
    'the secret shown when the token was created',
  );
  if (/\s/.test(pveTokenSecret))
    throw new ConfigError('PVE_TOKEN_SECRET', 'must not contain whitespace');

  const caFile = value(src, 'PVE_CA_FILE');
  const fingerprintRaw = value(src, 'PVE_FINGERPRINT');
  const insecureRaw = value(src, 'PVE_INSECURE');
  let insecure = false;
  if (insecureRaw !== undefined) {
    if (!/^(true|false|1|0|yes|no)$/i.test(insecureRaw)) {
      throw new ConfigError('PVE_INSECURE', 'must be true or false');
    }
    insecure = /^(true|1|yes)$/i.test(insecureRaw);
  }
  const chosen = [
    caFile && 'PVE_CA_FILE',
    fingerprintRaw && 'PVE_FINGERPRINT',
    insecure && 'PVE_INSECURE',
  ].filter(Boolean);
  if (chosen.length > 1) {
    throw new ConfigError(
      String(chosen[1]),
      `set only one of PVE_CA_FILE, PVE_FINGERPRINT, PVE_INSECURE (got ${chosen.join(', ')})`,
    );
  }
  let pveTls: PveTls;
  if (pve.protocol === 'http:') {
    if (chosen.length > 0)
      throw new ConfigError(
        String(chosen[0]),
        'PVE_URL is http://, so there is no TLS to configure',
      );
    pveTls = { mode: 'plain' };
  } else if (caFile) {
    try {
      pveTls = { mode: 'ca', caFile, ca: readFile(caFile) };
    } catch (err) {
      // Under systemd the service user cannot read /etc/pve (root:www-data 0640); the unit
      // hands the CA over as a credential with the same file name.
      const credential = credentialFile(src, caFile, fileExists);
      if (!credential)
        throw new ConfigError('PVE_CA_FILE', `cannot read ${caFile}: ${(err as Error).message}`);
      pveTls = { mode: 'ca', caFile: credential, ca: readFile(credential) };
    }
    if (!pveTls.ca.includes('-----BEGIN CERTIFICATE-----')) {
      throw new ConfigError('PVE_CA_FILE', `${caFile} holds no PEM certificate`);
    }
  } else if (fingerprintRaw) {
    const fingerprint = normaliseFingerprint(fingerprintRaw);
    if (!fingerprint) {
      throw new ConfigError(
        'PVE_FINGERPRINT',
        'must be a SHA-256 fingerprint: 64 hex digits, optionally separated by ":"',
      );
    }
    pveTls = { mode: 'fingerprint', fingerprint };
  } else if (insecure) {
    pveTls = { mode: 'insecure' };
  } else if (isLoopbackHost(pve.hostname) && clusterCa(src, fileExists)) {
    // On the Proxmox host itself the local certificate is signed by the cluster CA.
    const file = clusterCa(src, fileExists) as string;
    pveTls = { mode: 'ca', caFile: file, ca: readFile(file) };
  } else {
    pveTls = { mode: 'system' };
  }

  const pveNode = value(src, 'PVE_NODE');
  if (pveNode !== undefined && !/^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(pveNode)) {
    throw new ConfigError('PVE_NODE', 'must be a Proxmox node name (letters, digits, "-" and ".")');
  }

  const intervalRaw = value(src, 'SYNC_INTERVAL');
  const syncIntervalS =
    intervalRaw === undefined ? 60 : integer('SYNC_INTERVAL', intervalRaw, 10, 86_400);

  const healthRaw = value(src, 'HEALTH_PORT');
  let healthPort: number | undefined = DEFAULT_HEALTH_PORT;
  if (healthRaw !== undefined) {
    healthPort = /^(off|none|false)$/i.test(healthRaw)
      ? undefined
      : integer('HEALTH_PORT', healthRaw, 0, 65_535);
  }
  const healthHost = value(src, 'HEALTH_HOST') ?? '127.0.0.1';

  const levelRaw = (value(src, 'LOG_LEVEL') ?? 'info').toLowerCase();
  if (!(LOG_LEVELS as readonly string[]).includes(levelRaw)) {
    throw new ConfigError('LOG_LEVEL', `must be one of ${LOG_LEVELS.join(', ')}`);
  }

  return {
    accountdbUrl: stripPath(accountdb, /\/api(\/v1)?$/),
    nodeKey,
    accountdbCa,
    pveUrl: stripPath(pve, /\/api2\/json$/),
    pveTokenId,
    pveTokenSecret,
    pveTls,
    pveNode,
    syncIntervalS,
    healthPort,
    healthHost,
    logLevel: levelRaw as LogLevel,
    stateFile: value(src, 'STATE_FILE'),
  };
}

/** The settings without secrets, for the start-up log line and `check`. */
export function describeConfig(s: AgentSettings): Record<string, unknown> {
  return {
    accountdb_url: s.accountdbUrl,
    node_key: `${s.nodeKey.slice(0, 13)}…`,
    pve_url: s.pveUrl,
    pve_token_id: s.pveTokenId,
    pve_tls:
      s.pveTls.mode === 'ca'
        ? `ca (${s.pveTls.caFile})`
        : s.pveTls.mode === 'fingerprint'
          ? `fingerprint ${s.pveTls.fingerprint}`
          : s.pveTls.mode,
    pve_node: s.pveNode ?? '(from AccountDB / the answering node)',
    sync_interval_s: `${s.syncIntervalS} (AccountDB's interval_s wins once known)`,
    health: s.healthPort === undefined ? 'off' : `${s.healthHost}:${s.healthPort}`,
    state_file: s.stateFile ?? '(none)',
    log_level: s.logLevel,
  };
}
