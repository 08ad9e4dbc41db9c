/**
 * pve-sim against Proxmox VE's own published API schema.
 *
 * The schemas are not ours: test/schemas/pve-<version>.schema.json hold the response schemas
 * of Proxmox VE 8.4.1 (proxmox/pve-docs api-viewer/apidata.js at commit 8bdad93c) and 9.1.3
 * (commit e5010dce), transcribed into JSON Schema by test/schemas/transcribe.mjs (booleans are
 * the integers 0/1 Proxmox's JSON carries); test/schemas/supplements.json adds what apidata.js
 * leaves open (the guest agent's answer per QEMU's qga schema, `null` for a stopped
 * container's interfaces). Every answer of every endpoint the agent or a common client reads,
 * for every guest of a scenario that holds all edge cases, must validate.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EDGE_CASE_NAMES, type PveSim } from '../src/index.js';
import { api, control, type Json, startSim } from './helpers/sim.js';

interface SchemaFile {
  pveVersion: string;
  source: { repository: string; file: string; commit: string };
  endpoints: Record<string, object>;
}

function loadSchemas(version: string): {
  file: SchemaFile;
  validators: Map<string, ValidateFunction>;
} {
  const url = new URL(`./schemas/pve-${version}.schema.json`, import.meta.url);
  const file = JSON.parse(readFileSync(url, 'utf8')) as SchemaFile;
  const ajv = new Ajv2020({ allErrors: true, strict: true, allowUnionTypes: true });
  const validators = new Map<string, ValidateFunction>();
  for (const [endpoint, schema] of Object.entries(file.endpoints)) {
    validators.set(endpoint, ajv.compile(schema));
  }
  return { file, validators };
}

/** One answer checked: which endpoint (schema key), which URL, what came back. */
interface Checked {
  endpoint: string;
  url: string;
  errors: string[];
}

for (const version of ['8.4.1', '9.1.3']) {
  describe(`conformance with Proxmox VE ${version}'s API schema`, () => {
    const { file, validators } = loadSchemas(version);
    let sim: PveSim;
    const checked: Checked[] = [];
    const visited = new Set<string>();

    function validate(endpoint: string, url: string, data: unknown) {
      const check = validators.get(endpoint);
      if (!check) throw new Error(`no schema for ${endpoint}`);
      const ok = check(data);
      const errors = ok
        ? []
        : (check.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? ''}`.trim());
      checked.push({ endpoint, url, errors });
    }

    /** GET path; a 200 answer's data is validated (`label` names it in failures). */
    async function read(endpoint: string, path: string, label = path): Promise<Json> {
      const res = await api(sim, path);
      if (res.status !== 200) return undefined;
      expect(res.contentType).toBe('application/json;charset=UTF-8');
      validate(endpoint, label, res.body.data);
      return res.body.data;
    }

    beforeAll(async () => {
      sim = await startSim({ vms: 60, nodes: 3, seed: 11, pveVersion: version });
      const login = await fetch(`${sim.apiUrl}/access/ticket`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ username: sim.username, password: sim.password }),
      });
      expect(login.status).toBe(200);
      validate('POST /access/ticket', '/access/ticket', ((await login.json()) as Json).data);

      await read('GET /version', '/version');
      await read('GET /cluster/status', '/cluster/status');
      await read('GET /cluster/resources', '/cluster/resources');
      await read('GET /cluster/resources', '/cluster/resources?type=vm');
      const nodes: Json[] = await read('GET /nodes', '/nodes');
      const vms: Json[] = (await control(sim, 'GET', '/vms')).body;
      for (const node of nodes) {
        const n = node.node as string;
        await read('GET /nodes/{node}/status', `/nodes/${n}/status`);
        await read('GET /nodes/{node}/qemu', `/nodes/${n}/qemu`);
        await read('GET /nodes/{node}/qemu', `/nodes/${n}/qemu?full=1`);
        await read('GET /nodes/{node}/lxc', `/nodes/${n}/lxc`);
      }
      await Promise.all(
        vms.map(async (vm: Json) => {
          const base = `/nodes/${vm.node}/${vm.type}/${vm.vmid}`;
          await read(
            `GET /nodes/{node}/${vm.type}/{vmid}/status/current`,
            `${base}/status/current`,
          );
          await read(`GET /nodes/{node}/${vm.type}/{vmid}/config`, `${base}/config`);
          if (vm.type === 'qemu') {
            await read(
              'GET /nodes/{node}/qemu/{vmid}/agent/network-get-interfaces',
              `${base}/agent/network-get-interfaces`,
            );
          } else {
            await read('GET /nodes/{node}/lxc/{vmid}/interfaces', `${base}/interfaces`);
          }
          if (vm.edge_case) visited.add(vm.edge_case);
        }),
      );
      // Dynamic edge cases: a new guest whose name is not published yet, and a node that
      // went offline (its guests `unknown` in /cluster/resources, itself without stats).
      const added = await control(sim, 'POST', '/vms', { node: 'pve2', name_delay_ms: 60_000 });
      expect(added.status).toBe(201);
      await control(sim, 'POST', '/nodes/pve3', { online: false, unknown_after_ms: 0 });
      const later = ' (pve3 offline, a new guest)';
      await read('GET /nodes', '/nodes', `/nodes${later}`);
      await read('GET /cluster/status', '/cluster/status', `/cluster/status${later}`);
      const resources: Json[] = await read(
        'GET /cluster/resources',
        '/cluster/resources',
        `/cluster/resources${later}`,
      );
      expect(resources.some((r) => r.status === 'unknown')).toBe(true);
      expect(resources.some((r) => r.vmid === added.body.vmid && r.name === undefined)).toBe(true);
      await read('GET /nodes/{node}/qemu', '/nodes/pve2/qemu', `/nodes/pve2/qemu${later}`);
      const base = `/nodes/pve2/qemu/${added.body.vmid}`;
      await read('GET /nodes/{node}/qemu/{vmid}/config', `${base}/config`);
      await read('GET /nodes/{node}/qemu/{vmid}/status/current', `${base}/status/current`);
    }, 60_000);

    afterAll(() => sim?.stop());

    it('uses the schema file it names', () => {
      expect(file.pveVersion).toBe(version);
      expect(file.source).toMatchObject({
        repository: 'proxmox/pve-docs',
        file: 'api-viewer/apidata.js',
      });
      expect(file.source.commit).toMatch(/^[0-9a-f]{40}$/);
    });

    it('read every endpoint, every edge-case guest and every guest-agent answer', () => {
      expect([...visited].sort()).toEqual([...EDGE_CASE_NAMES].sort());
      const endpoints = new Set(checked.map((c) => c.endpoint));
      expect([...endpoints].sort()).toEqual(Object.keys(file.endpoints).sort());
      // Running agents answered, and running containers listed their interfaces.
      const agents = checked.filter((c) => c.endpoint.endsWith('network-get-interfaces'));
      expect(agents.length).toBeGreaterThan(5);
    });

    it('every answer validates against the schema', () => {
      const failures = checked.flatMap((c) => c.errors.map((e) => `${c.url}: ${e}`));
      expect(failures).toEqual([]);
    });
  });
}

describe('the schemas catch what the simulator used to get wrong', () => {
  const { validators } = loadSchemas('8.4.1');
  const valid = (endpoint: string, data: unknown) => validators.get(endpoint)?.(data);

  it('booleans are the integers 0/1, not strings', () => {
    expect(valid('GET /nodes/{node}/qemu/{vmid}/config', { digest: 'ab', onboot: 1 })).toBe(true);
    expect(valid('GET /nodes/{node}/qemu/{vmid}/config', { digest: 'ab', onboot: '1' })).toBe(
      false,
    );
  });

  it('LXC ostype is one of the schema enum', () => {
    const config = { digest: 'ab', ostype: 'centos' };
    expect(valid('GET /nodes/{node}/lxc/{vmid}/config', config)).toBe(true);
    expect(valid('GET /nodes/{node}/lxc/{vmid}/config', { ...config, ostype: 'rockylinux' })).toBe(
      false,
    );
  });

  it('LXC interfaces carry hardware-address and ip-addresses', () => {
    const entry = { name: 'eth0', hwaddr: 'bc:24:11:00:00:01', 'ip-addresses': [] };
    expect(valid('GET /nodes/{node}/lxc/{vmid}/interfaces', [entry])).toBe(false);
    expect(
      valid('GET /nodes/{node}/lxc/{vmid}/interfaces', [
        { ...entry, 'hardware-address': entry.hwaddr },
      ]),
    ).toBe(true);
  });

  it('qemu status is running|stopped; a QMP state belongs in qmpstatus', () => {
    const item = { vmid: 101, status: 'running', qmpstatus: 'io-error' };
    expect(valid('GET /nodes/{node}/qemu', [item])).toBe(true);
    expect(valid('GET /nodes/{node}/qemu', [{ ...item, status: 'paused' }])).toBe(false);
  });
});

describe('LXC interfaces follow the simulated version', () => {
  it('no hardware-address before 8.4, no ip-addresses before 8.1', async () => {
    for (const [version, hardware, list] of [
      ['8.0.2', false, false],
      ['8.1.4', false, true],
      ['8.3.5', false, true],
      ['8.4.1', true, true],
    ] as const) {
      const sim = await startSim({ vms: 30, seed: 11, pveVersion: version });
      try {
        const ct = (await control(sim, 'GET', '/vms')).body.find(
          (v: Json) => v.edge_case === 'lxc-ipv6',
        );
        const res = await api(sim, `/nodes/${ct.node}/lxc/${ct.vmid}/interfaces`);
        const eth0 = res.body.data.find((i: Json) => i.name === 'eth0');
        expect('hardware-address' in eth0, version).toBe(hardware);
        expect('ip-addresses' in eth0, version).toBe(list);
      } finally {
        await sim.stop();
      }
    }
  });
});
