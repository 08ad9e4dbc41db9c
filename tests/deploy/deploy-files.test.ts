import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { agentMetrics } from '../../apps/agent/src/metrics.js';
import { ApiMetrics } from '../../apps/api/src/http/metrics.js';

/**
 * The deployment files in deploy/. `docker compose` and hadolint are not installed on every
 * machine (not on CI's), so the rules that matter are checked here: the compose file's
 * structure, secrets only from the environment, healthchecks and the services they gate;
 * Dockerfiles that build from files that exist, run as non-root with a healthcheck and no
 * secret; hardened systemd units; a Grafana dashboard that queries only metrics that exist.
 * Where `docker compose` is present, `docker compose config` must accept the file too.
 */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const DEPLOY = path.join(ROOT, 'deploy');
const read = (file: string) => readFileSync(path.join(DEPLOY, file), 'utf8');

interface Service {
  image?: string;
  build?: { context: string; dockerfile: string };
  profiles?: string[];
  environment?: Record<string, string>;
  healthcheck?: { test: unknown };
  depends_on?: Record<string, { condition: string }>;
  volumes?: string[];
  ports?: string[];
  networks?: unknown;
}
const compose = parse(read('docker-compose.yml')) as {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
  networks: Record<string, unknown>;
};
const envExample = read('.env.example');
const documented = new Set(
  [...envExample.matchAll(/^([A-Z][A-Z0-9_]*)=/gm)].map((m) => m[1] as string),
);

describe('deploy/docker-compose.yml', () => {
  const services = compose.services;

  it('has PostgreSQL 16, the API and the web, and the optional parts under profiles', () => {
    expect(services.postgres?.image).toMatch(/^postgres:16/);
    expect(services.api?.build?.dockerfile).toBe('deploy/Dockerfile');
    expect(services.web?.image).toBe(services.api?.image);
    expect(services.redis?.profiles).toEqual(['redis']);
    expect(services.caddy?.profiles).toEqual(['proxy']);
    expect(services.prometheus?.profiles).toEqual(['monitoring']);
    expect(services.grafana?.profiles).toEqual(['monitoring']);
    for (const [name, service] of Object.entries(services)) {
      expect(service.image ?? service.build, `${name} has an image or a build`).toBeTruthy();
    }
  });

  it('gives every service a healthcheck and waits for healthy dependencies', () => {
    for (const [name, service] of Object.entries(services)) {
      expect(service.healthcheck?.test, `${name} healthcheck`).toBeTruthy();
      for (const [dependency, how] of Object.entries(service.depends_on ?? {})) {
        expect(services[dependency], `${name} depends on ${dependency}`).toBeDefined();
        expect(how.condition).toBe('service_healthy');
        // A service outside a profile must not wait for one that only runs with a profile.
        if (!service.profiles) expect(services[dependency]?.profiles).toBeUndefined();
      }
    }
  });

  it('takes every secret from the environment, and documents every variable it reads', () => {
    const text = read('docker-compose.yml');
    const used = new Set([...text.matchAll(/\$\{([A-Z][A-Z0-9_]*)/g)].map((m) => m[1] as string));
    expect(used.size).toBeGreaterThan(5);
    for (const variable of used)
      expect(documented, `${variable} in .env.example`).toContain(variable);
    for (const [name, service] of Object.entries(services)) {
      for (const [key, value] of Object.entries(service.environment ?? {})) {
        if (/PASSWORD|SECRET|_KEY|TOKEN/.test(key) || /:\/\/[^@\s]+:[^@\s]+@/.test(String(value))) {
          expect(String(value), `${name}.${key} comes from the environment`).toMatch(/\$\{[A-Z_]+/);
        }
      }
    }
    // The example holds no value for any secret.
    for (const line of envExample.split('\n')) {
      if (/^[A-Z_]*(PASSWORD|SECRET|_KEY|TOKEN)[A-Z_]*=/.test(line)) expect(line).toMatch(/=$/);
    }
  });

  it('declares its volumes and networks, mounts files that exist, and publishes no database', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0] as string;
        if (source.startsWith('./')) {
          // deploy/metrics-token is written by the operator (documented in .env.example).
          if (source !== './metrics-token') {
            expect(existsSync(path.join(DEPLOY, source)), `${name} mounts ${source}`).toBe(true);
          }
        } else {
          expect(compose.volumes, `${name} volume ${source}`).toHaveProperty(source);
        }
      }
    }
    expect(envExample).toContain('deploy/metrics-token');
    expect(services.postgres?.ports).toBeUndefined();
    expect(services.api?.ports).toBeUndefined();
    // The API believes forwarded addresses only from the web container, and the web container
    // only from Caddy.
    const address = (name: string) =>
      (services[name]?.networks as { frontend?: { ipv4_address?: string } } | undefined)?.frontend
        ?.ipv4_address;
    expect(services.api?.environment?.TRUST_PROXY).toBe(address('web'));
    expect(services.web?.environment?.WEB_TRUST_PROXY).toBe(
      `\${WEB_TRUST_PROXY:-${address('caddy')}}`,
    );
    expect(envExample).toContain(`WEB_TRUST_PROXY=${address('caddy')}`);
    // The pages ask for HTTPS (HSTS) exactly when the API's refresh cookie is Secure.
    expect(services.web?.environment?.COOKIE_SECURE).toBe(services.api?.environment?.COOKIE_SECURE);
  });

  const docker = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8' });
  it.skipIf(docker.status !== 0)('is accepted by `docker compose config`', () => {
    const env = Object.fromEntries([...documented].map((v) => [v, 'x'.repeat(32)]));
    const result = spawnSync(
      'docker',
      ['compose', '-f', path.join(DEPLOY, 'docker-compose.yml'), 'config', '-q'],
      { encoding: 'utf8', env: { ...process.env, ...env } },
    );
    expect(result.status, result.stderr).toBe(0);
  });
});

/** Stages of a Dockerfile: FROM line and its instructions (continuations joined). */
function stages(file: string): Array<{ from: string; lines: string[] }> {
  const joined = read(file)
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const out: Array<{ from: string; lines: string[] }> = [];
  for (const line of joined) {
    if (/^FROM\s/i.test(line)) out.push({ from: line, lines: [] });
    else out.at(-1)?.lines.push(line);
  }
  return out;
}

describe.each(['Dockerfile', 'agent/Dockerfile'])('deploy/%s', (file) => {
  const all = stages(file);
  const last = all.at(-1) as { from: string; lines: string[] };

  it('builds in stages from pinned images and copies only files that exist', () => {
    expect(all.length).toBeGreaterThanOrEqual(2);
    for (const stage of all) expect(stage.from).toMatch(/^FROM \S+:\d[\w.-]*(\s+AS\s+\w+)?$/i);
    for (const stage of all) {
      for (const line of stage.lines) {
        if (/^ADD\s/i.test(line)) expect(line).not.toMatch(/https?:\/\//);
        const copy = /^COPY\s+(?!--from)(.+)$/i.exec(line);
        if (!copy) continue;
        const parts = (copy[1] as string).split(/\s+/);
        for (const source of parts.slice(0, -1)) {
          const found = source.includes('*')
            ? true
            : existsSync(path.join(ROOT, source.replace(/\/$/, '')));
          expect(found, `${file}: COPY ${source}`).toBe(true);
        }
      }
    }
  });

  it('installs with npm ci and bakes in no secret', () => {
    const text = all.flatMap((s) => s.lines).join('\n');
    expect(text).toMatch(/npm ci/);
    expect(text).not.toMatch(/npm install\b/);
    for (const line of all.flatMap((s) => s.lines)) {
      if (/^(ENV|ARG)\s/i.test(line)) expect(line).not.toMatch(/PASSWORD|SECRET|_KEY|TOKEN/);
    }
  });

  it('runs as a non-root user with a healthcheck', () => {
    const user = last.lines.filter((l) => /^USER\s/i.test(l)).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER\s+(root|0)(:|\s|$)/i);
    expect(last.lines.some((l) => /^HEALTHCHECK\s/i.test(l))).toBe(true);
  });
});

describe('deploy/docker-entrypoint.sh and .dockerignore', () => {
  it('is an executable shell script that starts the API, the web or the CLI', () => {
    const file = path.join(DEPLOY, 'docker-entrypoint.sh');
    expect(statSync(file).mode & 0o111).not.toBe(0);
    const text = readFileSync(file, 'utf8');
    expect(text).toMatch(/^#!\/bin\/sh/);
    expect(text).toContain('apps/api/dist/server.js');
    expect(text).toContain('apps/web/server/main.mjs');
    // The image holds what it runs: the web server beside the built app.
    const image = read('Dockerfile');
    expect(image).toContain('COPY --from=build /src/apps/web/.next apps/web/.next');
    expect(image).toContain('COPY --from=build /src/apps/web/server apps/web/server');
    expect(spawnSync('sh', ['-n', file]).status).toBe(0);
  });

  it('keeps data, keys and .env files out of the build context', () => {
    const ignore = readFileSync(path.join(ROOT, '.dockerignore'), 'utf8');
    for (const entry of ['data', '.env', '**/*.key', '**/node_modules']) {
      expect(ignore.split('\n')).toContain(entry);
    }
  });
});

/** Sections and keys of a systemd unit. */
function unit(file: string): Record<string, Record<string, string[]>> {
  const out: Record<string, Record<string, string[]>> = {};
  let section = '';
  for (const raw of read(file).split('\n')) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const header = /^\[(\w+)\]$/.exec(line);
    if (header) {
      section = header[1] as string;
      out[section] = {};
      continue;
    }
    const kv = /^(\w+)=(.*)$/.exec(line);
    expect(kv, `${file}: "${line}"`).not.toBeNull();
    const [, key, value] = kv as RegExpExecArray;
    const keys = out[section] as Record<string, string[]>;
    keys[key as string] = [...(keys[key as string] ?? []), value as string];
  }
  return out;
}

describe.each(['systemd/accountdb-api.service', 'systemd/accountdb-web.service'])(
  'deploy/%s',
  (file) => {
    it('is a hardened service reading its settings from /etc/accountdb', () => {
      const u = unit(file);
      expect(Object.keys(u)).toEqual(['Unit', 'Service', 'Install']);
      const service = u.Service as Record<string, string[]>;
      expect(service.ExecStart?.[0]).toMatch(/^\/usr\/bin\/node \/opt\/accountdb\//);
      expect(service.User).toEqual(['accountdb']);
      expect(service.EnvironmentFile).toEqual(['/etc/accountdb/accountdb.env']);
      expect(service.NoNewPrivileges).toEqual(['true']);
      expect(service.ProtectSystem).toEqual(['strict']);
      expect(service.Restart).toEqual(['on-failure']);
      expect(u.Install?.WantedBy).toEqual(['multi-user.target']);
    });
  },
);

describe('monitoring', () => {
  const apiNames = new Set(
    new ApiMetrics({ kind: 'pglite' } as never).registry
      .getMetricsAsArray()
      .map((m) => (m as unknown as { name: string }).name),
  );
  const agentNames = new Set(
    [
      ...agentMetrics()
        .render()
        .matchAll(/^# TYPE (\S+)/gm),
    ].map((m) => m[1] as string),
  );

  it('the Grafana dashboard queries only metrics the API and the agent expose', () => {
    const dashboard = JSON.parse(read('grafana/accountdb-dashboard.json')) as {
      uid: string;
      panels: Array<{ title: string; targets: Array<{ expr: string }> }>;
    };
    expect(dashboard.uid).toBe('accountdb');
    expect(dashboard.panels.length).toBeGreaterThan(10);
    const queried = new Set<string>();
    for (const panel of dashboard.panels) {
      for (const target of panel.targets) {
        for (const [name] of target.expr.matchAll(/\b(accountdb|process|nodejs)_[a-z_]+/g)) {
          const base = name.replace(/_(bucket|sum|count)$/, '');
          expect(apiNames.has(base) || agentNames.has(base), `${panel.title}: ${name}`).toBe(true);
          queried.add(base);
        }
      }
    }
    // Every API series the issue lists has a panel.
    for (const name of [
      'accountdb_http_requests_total',
      'accountdb_http_request_duration_seconds',
      'accountdb_db_pool_connections',
      'accountdb_sync_total',
      'accountdb_sync_duration_seconds',
      'accountdb_claims_total',
      'accountdb_login_failures_total',
      'accountdb_agent_cycles_total',
    ]) {
      expect(queried, name).toContain(name);
    }
  });

  it('Prometheus scrapes the API with the metrics token, and Grafana has it as data source', () => {
    const prometheus = parse(read('prometheus.yml')) as {
      scrape_configs: Array<{
        job_name: string;
        authorization?: { credentials_file: string };
        static_configs: Array<{ targets: string[] }>;
      }>;
    };
    const api = prometheus.scrape_configs.find((c) => c.job_name === 'accountdb-api');
    expect(api?.static_configs[0]?.targets).toEqual(['api:8080']);
    expect(api?.authorization?.credentials_file).toBe('/etc/prometheus/metrics-token');
    const datasources = parse(read('grafana/provisioning/datasources/prometheus.yml')) as {
      datasources: Array<{ uid: string; url: string }>;
    };
    expect(datasources.datasources[0]).toMatchObject({
      uid: 'prometheus',
      url: 'http://prometheus:9090',
    });
  });
});
