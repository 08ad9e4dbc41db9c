import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Agent } from '../src/agent.js';
import { startHealthServer } from '../src/health/server.js';
import { StateFile } from '../src/state.js';
import { readStatus, statusExitCode } from '../src/status.js';
import { FakeAccountDb } from './helpers/fake-accountdb.js';
import { FakePve } from './helpers/fake-pve.js';
import { testAgent, testSettings } from './helpers/setup.js';

let pve: FakePve;
let adb: FakeAccountDb;
const agents: Agent[] = [];

async function until(what: string, cond: () => boolean, timeoutMs = 5_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

beforeEach(async () => {
  pve = new FakePve();
  adb = new FakeAccountDb();
  await Promise.all([pve.start(), adb.start()]);
  for (const vmid of [101, 102, 103]) pve.addGuest({ vmid });
});

afterEach(async () => {
  for (const a of agents.splice(0)) await a.close();
  await Promise.all([pve.stop(), adb.stop()]);
});

function runner(options: Parameters<typeof testAgent>[1] = {}) {
  const made = testAgent(testSettings(pve.url, adb.url, adb.key), {
    backoff: { baseMs: 20, capMs: 80 },
    random: () => 0.999,
    intervalMs: 60_000,
    ...options,
  });
  agents.push(made.agent);
  return made;
}

describe('run loop', () => {
  it('backs off while AccountDB is unreachable, reads nothing from Proxmox meanwhile, then does a fresh full sync', async () => {
    adb.mode = 'drop';
    const { agent } = runner();
    const stop = new AbortController();
    const running = agent.run(stop.signal);
    // Wait for the agent to have handled three failures (the fake server sees each attempt
    // a moment before the agent counts it).
    await until(
      'three failed cycles',
      () =>
        (agent.metrics.get('accountdb_agent_cycles_total', { outcome: 'accountdb_unavailable' }) ??
          0) >= 3,
    );
    expect(adb.requests.filter((r) => r.status === 0).length).toBeGreaterThanOrEqual(3);
    expect(pve.count('/cluster/resources')).toBe(0);
    expect(agent.state.status).toBe('error');
    expect(agent.state.last_error).toMatch(/cannot reach AccountDB/);

    adb.mode = 'up';
    await until('a sync', () => adb.syncs.length === 1);
    const body = adb.syncs[0];
    expect(body?.complete).toBe(true);
    expect(body?.vms.map((v) => v.vmid)).toEqual([101, 102, 103]);
    expect(body?.vms[0]?.mac_addresses).toEqual(['BC:24:11:00:00:65']);
    await until('state ok', () => agent.state.status === 'ok');
    expect(agent.health().healthy).toBe(true);
    expect(agent.metrics.get('accountdb_agent_backoff_seconds')).toBe(0);
    stop.abort();
    await running;
  });

  it('after a failed sync POST, retries with a new cycle and a freshly read snapshot', async () => {
    adb.mode = '503';
    adb.downMatch = /\/sync$/;
    const { agent } = runner();
    const stop = new AbortController();
    const running = agent.run(stop.signal);
    await until('two failed syncs', () => adb.syncAttempts.length >= 2);
    const failed = [...adb.syncAttempts];
    const resourcesBefore = pve.count('/cluster/resources');
    pve.addGuest({ vmid: 104, status: 'stopped' });
    adb.mode = 'up';
    await until('a sync', () => adb.syncs.length === 1);
    stop.abort();
    await running;
    const ok = adb.syncs[0];
    expect(failed).not.toContain(ok?.cycle_id);
    expect(pve.count('/cluster/resources')).toBeGreaterThan(resourcesBefore);
    expect(ok?.complete).toBe(true);
    expect(ok?.vms.map((v) => v.vmid)).toEqual([101, 102, 103, 104]);
    // Each read was one listing call; configs were read once per guest, not per attempt.
    expect(pve.count(/\/qemu\/101\/config$/)).toBe(1);
  });

  it('waits at least a Retry-After, and the interval after a Proxmox error', async () => {
    const { agent } = runner({
      backoff: { baseMs: 1_000, capMs: 300_000, maxRetryAfterMs: 3_600_000 },
      random: () => 0,
    });
    adb.mode = '503';
    adb.retryAfter = '30';
    const outcome = await agent.cycle();
    expect(agent.nextDelayMs(outcome)).toBe(30_000);
    adb.mode = 'up';
    pve.fail(/^\/cluster\/resources$/, { status: 595 });
    const pveOutcome = await agent.cycle();
    expect(pveOutcome.kind).toBe('pve_error');
    expect(agent.nextDelayMs(pveOutcome)).toBe(60_000);
  });

  it('stops promptly when asked, also in the middle of a backoff wait', async () => {
    adb.mode = 'drop';
    const { agent } = runner({ backoff: { baseMs: 60_000, capMs: 60_000 } });
    const stop = new AbortController();
    const running = agent.run(stop.signal);
    await until('a failed attempt', () => adb.requests.length >= 1);
    const t0 = Date.now();
    stop.abort();
    await running;
    expect(Date.now() - t0).toBeLessThan(1_000);
  });
});

describe('health, metrics, state file and status', () => {
  it('serves /healthz and /metrics, writes the state file, and `status` reads either', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adb-agent-'));
    try {
      const stateFile = new StateFile(join(dir, 'state.json'));
      const { agent, lines } = runner({ stateFile });
      const server = await startHealthServer({
        host: '127.0.0.1',
        port: 0,
        health: () => agent.health(),
        metrics: () => agent.metrics.render(),
      });
      try {
        let res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
        expect(res.status).toBe(503); // no sync yet
        await agent.cycle();
        res = await fetch(`http://127.0.0.1:${server.port}/healthz`);
        expect(res.status).toBe(200);
        const body = (await res.json()) as Record<string, unknown>;
        expect(body).toMatchObject({
          status: 'ok',
          node: 'pve1',
          guests: 3,
          pve_version: '8.4.1',
          healthy: true,
        });
        const metrics = await (await fetch(`http://127.0.0.1:${server.port}/metrics`)).text();
        expect(metrics).toContain('accountdb_agent_cycles_total{outcome="synced"} 1');
        expect(metrics).toContain(
          'accountdb_agent_pve_requests_total{endpoint="/cluster/resources",result="ok"} 1',
        );
        expect(metrics).toContain(
          'accountdb_agent_pve_requests_total{endpoint="/nodes/{node}/qemu/{vmid}/config",result="ok"} 3',
        );
        expect(metrics).toMatch(/accountdb_agent_last_success_timestamp_seconds \d{10}/);
        expect(metrics).toContain('accountdb_agent_guests 3');
        expect(metrics).toMatch(/accountdb_agent_sync_duration_seconds \d/);
        expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);

        const viaHealth = await readStatus({
          healthHost: '127.0.0.1',
          healthPort: server.port,
          stateFile: undefined,
        });
        expect(viaHealth.source).toBe('healthz');
        expect(statusExitCode(viaHealth)).toBe(0);
      } finally {
        await server.close();
      }
      expect(stateFile.read()).toMatchObject({ status: 'ok', guests: 3, baseline_guests: 3 });
      const viaFile = await readStatus({
        healthHost: '127.0.0.1',
        healthPort: undefined,
        stateFile: stateFile.path,
      });
      expect(viaFile.source).toBe('state_file');
      expect(statusExitCode(viaFile)).toBe(0);
      expect(
        statusExitCode(
          await readStatus({
            healthHost: '127.0.0.1',
            healthPort: undefined,
            stateFile: undefined,
          }),
        ),
      ).toBe(3);
      // Logs never hold a secret.
      const all = lines.join('\n');
      expect(all).not.toContain(adb.key);
      expect(all).not.toContain('secret-uuid');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps the collapse baseline in the state file across restarts', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adb-agent-'));
    try {
      const stateFile = new StateFile(join(dir, 'state.json'));
      for (let vmid = 104; vmid < 110; vmid++) pve.addGuest({ vmid });
      await runner({ stateFile }).agent.cycle();
      pve.guests.clear();
      const restarted = runner({ stateFile }).agent;
      const outcome = await restarted.cycle();
      expect(outcome.kind).toBe('pve_error');
      expect(adb.syncs).toHaveLength(1);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
