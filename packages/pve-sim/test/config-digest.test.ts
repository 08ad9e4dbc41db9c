import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { configDigest, type PveSim, serialiseConfig } from '../src/index.js';
import { control, data, type Json, startSim } from './helpers/sim.js';

let sim: PveSim;
let vm: Json;
let ct: Json;

beforeAll(async () => {
  sim = await startSim({ vms: 40 });
  const vms: Json[] = (await control(sim, 'GET', '/vms')).body;
  vm = vms.find((v) => v.edge_case === 'agent-rich');
  ct = vms.find((v) => v.edge_case === 'lxc-ipv6');
});
afterAll(() => sim?.stop());

const configOf = (g: Json) => data(sim, `/nodes/${g.node}/${g.type}/${g.vmid}/config`);
const digestOf = async (g: Json) => (await configOf(g)).digest as string;

describe('config digest', () => {
  it('is the SHA-1 of the config file as Proxmox writes it', async () => {
    const raw = (await control(sim, 'GET', `/vms/${vm.vmid}`)).body.config;
    const text = serialiseConfig(raw);
    expect(
      text
        .split('\n')
        .filter(Boolean)
        .every((l) => /^(#|[a-z0-9_-]+: )/.test(l)),
    ).toBe(true);
    const sorted = text
      .split('\n')
      .filter((l) => l && !l.startsWith('#'))
      .map((l) => l.split(':')[0]);
    expect(sorted).toEqual([...sorted].sort());
    const sha1 = createHash('sha1').update(text).digest('hex');
    expect(configDigest(raw)).toBe(sha1);
    expect(await digestOf(vm)).toBe(sha1);
  });

  it('puts the description first as # comment lines', () => {
    const text = serialiseConfig({ name: 'a', description: 'line 1\nline ✓', cores: '2' });
    expect(text).toBe('#line 1\n#line %E2%9C%93\ncores: 2\nname: a\n');
  });

  it.each([
    ['name', { name: 'renamed-vm' }],
    ['tags', { tags: ['b', 'a'] }],
    ['memory', { memory: 'current=2048' }],
    ['cores', { cores: 6 }],
    ['sockets', { sockets: 2 }],
    ['description', { description: 'changed' }],
    ['lock', { lock: 'snapshot' }],
    ['lock removed', { lock: null }],
    ['agent', { agent: 'enabled=1,fstrim_cloned_disks=1' }],
    ['onboot', { onboot: false }],
    ['raw config key', { config: { net1: 'virtio=BC:24:11:00:00:01,bridge=vmbr0' } }],
  ])('changes on PATCH of %s', async (_label, patch) => {
    const before = await digestOf(vm);
    const res = await control(sim, 'PATCH', `/vms/${vm.vmid}`, patch);
    expect(res.status).toBe(200);
    const after = await digestOf(vm);
    expect(after).not.toBe(before);
    expect(res.body.digest).toBe(after);
  });

  it('does not change when a PATCH sets the values the config already has', async () => {
    const before = await digestOf(vm);
    const current = (await control(sim, 'GET', `/vms/${vm.vmid}`)).body;
    await control(sim, 'PATCH', `/vms/${vm.vmid}`, { name: current.name, tags: current.tags });
    expect(await digestOf(vm)).toBe(before);
  });

  it.each([
    ['status stopped', { status: 'stopped' }],
    ['status running', { status: 'running' }],
    ['qmpstatus paused', { qmpstatus: 'paused' }],
    ['qmpstatus', { qmpstatus: 'prelaunch' }],
    ['hastate', { hastate: 'started' }],
    ['pool', { pool: 'lab' }],
    ['guest agent mode', { guest_agent: 'timeout' }],
  ])('does not change on PATCH of %s', async (_label, patch) => {
    const before = await digestOf(vm);
    expect((await control(sim, 'PATCH', `/vms/${vm.vmid}`, patch)).status).toBe(200);
    expect(await digestOf(vm)).toBe(before);
  });

  it('does not change when the guest migrates to another node', async () => {
    const before = await digestOf(vm);
    const target = ['pve1', 'pve2', 'pve3'].find((n) => n !== vm.node);
    await control(sim, 'PATCH', `/vms/${vm.vmid}`, { node: target });
    vm = { ...vm, node: target };
    expect(await digestOf(vm)).toBe(before);
  });

  it('works the same for containers (hostname is the name)', async () => {
    const before = await digestOf(ct);
    await control(sim, 'PATCH', `/vms/${ct.vmid}`, { name: 'ct-renamed' });
    const config = await configOf(ct);
    expect(config.hostname).toBe('ct-renamed');
    expect(config.digest).not.toBe(before);
    const after = config.digest;
    await control(sim, 'PATCH', `/vms/${ct.vmid}`, { status: 'stopped' });
    expect(await digestOf(ct)).toBe(after);
  });

  it('changes through the programmatic state too', async () => {
    const before = await digestOf(vm);
    sim.state.patchGuest(vm.vmid, { tags: 'x,y' });
    expect(await digestOf(vm)).not.toBe(before);
  });
});
