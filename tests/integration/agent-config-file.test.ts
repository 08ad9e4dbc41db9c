import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadSettings, parseEnvFile } from '../../apps/agent/src/config.js';
import {
  bearer,
  createUser,
  setupAdmin,
  type TestUser,
} from '../../apps/api/test/helpers/factories.js';
import { apiAs, expectProblem, ownerQuery } from '../../apps/api/test/helpers/support.js';
import { createTestApp, type TestApp } from '../../apps/api/test/helpers/test-app.js';

/**
 * The `agent_config` the API answers, read by the agent's own parser (and by a POSIX shell,
 * the other reader of such a file): a node's name cannot add settings, and a value with
 * spaces, quotes, $, backslashes or # comes back exactly as written.
 */

let t: TestApp;
let alice: TestUser;
let call: ReturnType<typeof apiAs>;
let dir: string;

beforeAll(async () => {
  t = await createTestApp();
  const admin = await setupAdmin(t.app);
  alice = await createUser(t.app, admin);
  call = apiAs(t.app);
  dir = mkdtempSync(path.join(tmpdir(), 'adb-agent-config-'));
});
afterAll(async () => {
  await t?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const KEYS = [
  'ACCOUNTDB_URL',
  'ACCOUNTDB_NODE_KEY',
  'PVE_URL',
  'PVE_TOKEN_ID',
  'PVE_TOKEN_SECRET',
  'PVE_CA_FILE',
  'PVE_NODE',
  'SYNC_INTERVAL',
];

/** The file as `sh` reads it (`set -a; . file`): the values of KEYS, NUL-separated. */
async function readByShell(config: string): Promise<Record<string, string>> {
  const file = path.join(dir, `${crypto.randomUUID()}.env`);
  writeFileSync(file, config, { mode: 0o600 });
  const script = `set -a; . "$1"; printf '%s\\0' ${KEYS.map((k) => `"$${k}"`).join(' ')}`;
  const { stdout } = await promisify(execFile)('sh', ['-c', script, 'sh', file]);
  const values = stdout.split('\0');
  return Object.fromEntries(KEYS.map((k, i) => [k, values[i] ?? '']));
}

const INJECTIONS = [
  'pve9\nACCOUNTDB_URL=http://evil.example',
  'pve9\rACCOUNTDB_URL=http://evil.example',
  'pve9\r\nPVE_INSECURE=true',
  'tab\there',
  'nul\u0000',
  'del\u007F',
  'next-line\u0085',
  'line-separator\u2028PVE_INSECURE=true',
];

describe('node names and the agent configuration', () => {
  it('refuses control characters in a name on create, update and bulk, naming the field', async () => {
    const node = (await call(alice, 'POST', '/proxmox-nodes', { name: 'pve-ok' })).json();
    for (const name of INJECTIONS) {
      const created = await call(alice, 'POST', '/proxmox-nodes', { name });
      expectProblem(created, 400, 'validation_error');
      expect(created.json().errors).toEqual([
        {
          path: '/body/name',
          message: 'must not contain control characters (line breaks, tabs, …)',
        },
      ]);
      const patched = await call(alice, 'PATCH', `/proxmox-nodes/${node.id}`, { name });
      expectProblem(patched, 400, 'validation_error');
      expect(patched.json().errors[0].path).toBe('/body/name');
      const bulk = await call(alice, 'POST', '/proxmox-nodes/bulk', {
        items: [{ name: `fine-${crypto.randomUUID()}` }, { name }],
      });
      expectProblem(bulk, 422, 'bulk_failed');
      expect(bulk.json().errors).toEqual([
        {
          path: '/body/items/1/name',
          message: 'must not contain control characters (line breaks, tabs, …)',
        },
      ]);
    }
    const names = (await call(alice, 'GET', '/proxmox-nodes?limit=500'))
      .json()
      .items.map((n: { name: string }) => n.name);
    expect(names).toEqual(['pve-ok']);
  });

  it('writes every value so that the agent and a shell read back exactly what was meant', async () => {
    for (const name of [
      'pve1',
      'PVE Main #2',
      'the "big" one',
      "it's $HOME `id` \\ and \\\\",
      'ends with a backslash \\',
      '#hash first',
      'trailing space ',
      'ünïcødé-节点',
    ]) {
      const res = await call(alice, 'POST', '/proxmox-nodes', { name, sync_interval_s: 30 });
      expect(res.statusCode, res.body).toBe(201);
      const { agent_config: config, api_key: key } = res.json();
      const expected = {
        ACCOUNTDB_URL: 'http://localhost:80',
        ACCOUNTDB_NODE_KEY: key,
        PVE_URL: 'https://127.0.0.1:8006',
        PVE_TOKEN_ID: 'accountdb@pve!sync',
        PVE_TOKEN_SECRET: '',
        PVE_CA_FILE: '/etc/pve/pve-root-ca.pem',
        PVE_NODE: name.trim() === name ? name : name.trim(),
        SYNC_INTERVAL: '30',
      };
      expect(parseEnvFile(config), config).toEqual(expected);
      expect(await readByShell(config), config).toEqual(expected);
    }
  });

  it('a plain name gives a configuration the agent accepts as it is, once the token secret is in', async () => {
    const res = await call(alice, 'POST', '/proxmox-nodes', { name: 'pve7' });
    const config = `${res.json().agent_config}`.replace(
      'PVE_TOKEN_SECRET=',
      'PVE_TOKEN_SECRET=5f0c7a9e-1111',
    );
    const settings = loadSettings(parseEnvFile(config), {
      fileExists: () => true,
      readFile: () => '-----BEGIN CERTIFICATE-----\n',
    });
    expect(settings).toMatchObject({
      pveNode: 'pve7',
      nodeKey: res.json().api_key,
      syncIntervalS: 60,
    });
  });

  it('an address from the Host header is quoted like any value', async () => {
    const res = await call(
      alice,
      'POST',
      '/proxmox-nodes',
      { name: 'pve-host' },
      { host: 'accountdb.lan:8080' },
    );
    expect(parseEnvFile(res.json().agent_config).ACCOUNTDB_URL).toBe('http://accountdb.lan:8080');
    const odd = await call(alice, 'POST', '/proxmox-nodes', { name: 'pve-odd' }, { host: 'a"b$c' });
    expect(odd.statusCode, odd.body).toBe(201);
    expect(parseEnvFile(odd.json().agent_config).ACCOUNTDB_URL).toBe('http://a"b$c');
    expect((await readByShell(odd.json().agent_config)).ACCOUNTDB_URL).toBe('http://a"b$c');
  });

  it('a name stored with a line break before the check: rotation refuses, the old key stays', async () => {
    const created = (await call(alice, 'POST', '/proxmox-nodes', { name: 'pve-old' })).json();
    await ownerQuery(t.database, 'UPDATE proxmox_nodes SET name = $1 WHERE id = $2', [
      'pve-old\nACCOUNTDB_URL=http://evil.example',
      created.id,
    ]);
    const rotated = await call(alice, 'POST', `/proxmox-nodes/${created.id}/rotate-key`);
    expectProblem(rotated, 422, 'invalid_agent_config');
    expect(rotated.json().detail).toContain("node's name contains control characters");
    expect(rotated.body).not.toContain('evil.example');
    // Nothing changed: the old key still works.
    const heartbeat = await t.app.inject({
      method: 'POST',
      url: '/api/v1/agent/heartbeat',
      headers: bearer(created.api_key),
      payload: { status: 'ok', agent_version: '0.1.0' },
    });
    expect(heartbeat.statusCode, heartbeat.body).toBe(204);
    // Renamed, the node rotates again.
    expect(
      (await call(alice, 'PATCH', `/proxmox-nodes/${created.id}`, { name: 'pve-old' })).statusCode,
    ).toBe(200);
    const again = await call(alice, 'POST', `/proxmox-nodes/${created.id}/rotate-key`);
    expect(again.statusCode, again.body).toBe(200);
    expect(parseEnvFile(again.json().agent_config).PVE_NODE).toBe('pve-old');
  });
});
