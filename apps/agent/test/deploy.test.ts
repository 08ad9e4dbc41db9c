import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { loadSettings, parseEnvFile } from '../src/config.js';

const run = promisify(execFile);
const deploy = fileURLToPath(new URL('../../../deploy/agent/', import.meta.url));
const script = join(deploy, 'install.sh');
const dir = mkdtempSync(join(tmpdir(), 'adb-agent-deploy-'));

function has(tool: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('deploy/agent', () => {
  it('install.sh is valid bash', async () => {
    await run('bash', ['-n', script]);
  });

  it.skipIf(!has('shellcheck'))('install.sh is shellcheck-clean', async () => {
    await run('shellcheck', [script]);
  });

  it('stages idempotently, writes the settings template 0600 once and never overwrites it', async () => {
    const bundle = join(dir, 'bundle.mjs');
    writeFileSync(bundle, '#!/usr/bin/env node\n');
    const root = join(dir, 'root');
    await run('bash', [script, '--root', root, '--bundle', bundle]);
    const envFile = join(root, 'etc/accountdb-agent.env');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
    expect(statSync(join(root, 'opt/accountdb-agent/accountdb-agent.mjs')).mode & 0o777).toBe(
      0o755,
    );
    expect(
      readFileSync(join(root, 'etc/systemd/system/accountdb-agent.service.d/pve-ca.conf'), 'utf8'),
    ).toContain('LoadCredential=pve-root-ca.pem:/etc/pve/pve-root-ca.pem');

    // The template parses, and once filled in it is a valid configuration.
    const template = parseEnvFile(readFileSync(envFile, 'utf8'));
    expect(Object.keys(template)).toEqual([
      'ACCOUNTDB_URL',
      'ACCOUNTDB_NODE_KEY',
      'PVE_URL',
      'PVE_TOKEN_ID',
      'PVE_TOKEN_SECRET',
    ]);
    const filled = {
      ...template,
      ACCOUNTDB_URL: 'https://accountdb.example.com',
      ACCOUNTDB_NODE_KEY: 'adb_node_abcdefghijklmnop',
      PVE_TOKEN_SECRET: '5f0c7a9e-1111-2222-3333-444455556666',
    };
    expect(loadSettings(filled, { fileExists: () => false }).pveTokenId).toBe('accountdb@pve!sync');

    writeFileSync(envFile, 'ACCOUNTDB_URL=https://kept.example\n', { mode: 0o644 });
    await run('bash', [script, '--root', root, '--bundle', bundle]);
    expect(readFileSync(envFile, 'utf8')).toBe('ACCOUNTDB_URL=https://kept.example\n');
    expect(statSync(envFile).mode & 0o777).toBe(0o600);
  });

  it('the unit runs the bundle as a dedicated user with hardening and the settings file', () => {
    const unit = readFileSync(join(deploy, 'accountdb-agent.service'), 'utf8');
    for (const line of [
      'User=accountdb-agent',
      'EnvironmentFile=/etc/accountdb-agent.env',
      'ExecStart=/usr/bin/node /opt/accountdb-agent/accountdb-agent.mjs run',
      'Restart=on-failure',
      'RestartPreventExitStatus=78',
      'NoNewPrivileges=true',
      'ProtectSystem=strict',
      'ProtectHome=true',
      'PrivateTmp=true',
      'StateDirectory=accountdb-agent',
      'CapabilityBoundingSet=',
    ]) {
      expect(unit.split('\n')).toContain(line);
    }
  });

  it.skipIf(!has('systemd-analyze'))('the unit passes systemd-analyze verify', async () => {
    const { stderr } = await run('systemd-analyze', [
      'verify',
      join(deploy, 'accountdb-agent.service'),
    ]);
    expect(stderr).not.toMatch(/Unknown (key|section)|Failed to parse/i);
  });
});
