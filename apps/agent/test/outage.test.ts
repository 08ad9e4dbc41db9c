import { type PveSim, startPveSim } from '@accountdb/pve-sim';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { backoffCeiling, DEFAULT_BACKOFF } from '../src/sync/backoff.js';
import { FakeAccountDb } from './helpers/fake-accountdb.js';
import { testAgent, testSettings } from './helpers/setup.js';

// Fault test (issue 7): AccountDB down for minutes. The agent's run loop works for real against
// pve-sim and a fake AccountDB; only its waits are virtual (the injected sleep adds them to a
// clock instead of waiting), so a 15-minute outage takes milliseconds and is deterministic.

const OUTAGE_MS = 15 * 60_000;
const NODE = 'pve1';
const { minMs = 0, capMs } = DEFAULT_BACKOFF;

let sim: PveSim;

beforeAll(async () => {
  sim = await startPveSim({
    vms: 12,
    nodes: 1,
    seed: 7,
    authDelayMs: 0,
    agentNotRunningMs: 5,
    agentTimeoutMs: 20,
    nameDelayMs: 0,
  });
}, 60_000);

afterAll(async () => sim?.stop());

/** A deterministic random source (mulberry32): one stream per agent. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = Math.imul(a ^ (a >>> 15), a | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const vmidsOnNode = () => [...sim.state.guestsOn(NODE)].map((g) => g.vmid).sort((a, b) => a - b);

/** What the agent holds after each failed attempt: none of it may grow with the attempts. */
interface Footprint {
  stateBytes: number;
  metricLines: number;
  cachedGuests: number;
  activeResources: number;
}

/**
 * One agent with the default backoff: a first sync, then AccountDB goes down (`mode` on the
 * paths matching `downMatch`) for OUTAGE_MS of virtual time while Proxmox changes, then comes
 * back; the run ends after the next sync.
 */
async function outage(seed: number, mode: 'drop' | '503', downMatch = /./) {
  const adb = new FakeAccountDb();
  await adb.start();
  let clock = 0;
  let downAt = Number.NaN;
  let upAt = Number.NaN;
  let listingsWhileDown = Number.NaN;
  let onNode: number[] = [];
  const delays: number[] = [];
  const footprints: Footprint[] = [];
  const changed = { removed: 0, renamed: 0, added: 0 };
  const stop = new AbortController();
  const kind = (k: string) => sim.stats().requests_by_kind[k] ?? 0;

  const { agent } = testAgent(
    testSettings(sim.url, adb.url, adb.key, {
      pveTokenId: sim.tokenId,
      pveTokenSecret: sim.tokenSecret,
    }),
    {
      backoff: DEFAULT_BACKOFF,
      random: seeded(seed),
      // One sleep per wait between cycles, as the hook above counts them (no "Sync now" polls).
      configPollMs: Number.POSITIVE_INFINITY,
      now: () => 1_800_000_000_000 + clock,
      sleep: async (ms) => {
        clock += ms;
        if (Number.isNaN(downAt)) {
          // After the first sync AccountDB goes away, and Proxmox changes meanwhile.
          expect(agent.state.last_outcome).toBe('synced');
          downAt = clock;
          adb.mode = mode;
          adb.downMatch = downMatch;
          adb.requests = [];
          const [a, b] = [...sim.state.guestsOn(NODE)].filter((g) => !g.derived.template);
          if (!a || !b) throw new Error('the scenario has too few guests');
          changed.added = sim.state.addGuest({ node: NODE, name: `added-${seed}` }).vmid;
          changed.removed = a.vmid;
          changed.renamed = b.vmid;
          sim.state.removeGuest(a.vmid);
          sim.state.patchGuest(b.vmid, { name: `renamed-${seed}` });
          sim.resetStats();
        } else if (Number.isNaN(upAt)) {
          expect(agent.state.last_outcome).toBe('accountdb_unavailable');
          delays.push(ms);
          footprints.push({
            stateBytes: JSON.stringify(agent.state).length,
            metricLines: agent.metrics.render().split('\n').length,
            cachedGuests: agent.engine.cachedGuests,
            activeResources: process.getActiveResourcesInfo().length,
          });
          // The next attempt happens at `clock`: from OUTAGE_MS on, AccountDB answers it.
          if (clock - downAt >= OUTAGE_MS) {
            upAt = clock;
            listingsWhileDown = kind('cluster-resources');
            adb.mode = 'up';
          }
        } else {
          onNode = vmidsOnNode(); // what pve-sim holds when the sync after the outage is done
          stop.abort();
        }
      },
    },
  );
  try {
    await agent.run(stop.signal);
  } finally {
    await agent.close();
    await adb.stop();
  }
  return { agent, adb, delays, footprints, downAt, upAt, listingsWhileDown, changed, onNode };
}

type Run = Awaited<ReturnType<typeof outage>>;

function expectBackoffShape(run: Run): void {
  // Capped exponential with jitter: the n-th wait lies in [floor, min(cap, base·2^n)).
  run.delays.forEach((d, n) => {
    expect(d).toBeGreaterThanOrEqual(minMs);
    expect(d).toBeLessThan(backoffCeiling(n, DEFAULT_BACKOFF));
    expect(d).toBeLessThanOrEqual(capMs);
  });
  expect(minMs).toBeGreaterThan(0);
  // Bounded attempts: 15 minutes of outage take a handful of tries, not one a second (900).
  expect(run.delays.length).toBeGreaterThanOrEqual(OUTAGE_MS / capMs);
  expect(run.delays.length).toBeLessThanOrEqual(25);
  // It kept trying through the outage: AccountDB back → synced within one capped wait.
  expect(run.upAt - (run.downAt + OUTAGE_MS)).toBeLessThan(capMs);
}

function expectNothingAccumulates(run: Run): void {
  const [first, ...rest] = run.footprints;
  expect(rest.length).toBeGreaterThan(3);
  for (const f of rest) {
    expect(f.metricLines).toBe(first?.metricLines);
    expect(f.cachedGuests).toBe(first?.cachedGuests);
    // Only the digits of consecutive_failures may grow.
    expect(f.stateBytes).toBeLessThanOrEqual((first?.stateBytes ?? 0) + 2);
    expect(f.activeResources).toBeLessThanOrEqual((first?.activeResources ?? 0) + 2);
  }
}

function expectConverged(run: Run): void {
  const { adb, agent, changed, onNode } = run;
  // One fresh complete sync after the outage: no replayed or queued snapshots.
  expect(adb.syncs).toHaveLength(2);
  const last = adb.syncs[1];
  expect(last?.complete).toBe(true);
  const synced = (last?.vms ?? []).map((v) => v.vmid).sort((a, b) => a - b);
  expect(synced).toEqual(onNode);
  expect(synced).toContain(changed.added);
  expect(synced).not.toContain(changed.removed);
  expect(last?.vms.find((v) => v.vmid === changed.renamed)?.name).toMatch(/^renamed-/);
  expect(agent.state).toMatchObject({ status: 'ok', consecutive_failures: 0 });
}

describe('AccountDB down for 15 minutes', () => {
  it('unreachable: one request per jittered, capped backoff attempt, nothing read or kept meanwhile, then the current state', async () => {
    const a = await outage(1, 'drop');
    const b = await outage(2, 'drop');
    for (const run of [a, b]) {
      expectBackoffShape(run);
      expectNothingAccumulates(run);
      expectConverged(run);
      // Each attempt is one GET /agent/config (no retry burst inside an attempt) and no
      // Proxmox listing: nothing is read, so nothing can pile up.
      const failed = run.adb.requests.filter((r) => r.status === 0);
      expect(failed).toHaveLength(run.delays.length);
      expect(new Set(failed.map((r) => r.path))).toEqual(new Set(['/api/v1/agent/config']));
      expect(run.listingsWhileDown).toBe(0);
    }
    // Jitter: two agents that lost AccountDB together do not retry in lockstep.
    const n = Math.min(a.delays.length, b.delays.length);
    const same = a.delays.slice(0, n).filter((d, i) => d === b.delays[i]).length;
    expect(same).toBeLessThan(n / 2);
    const atCap = a.delays.filter((_, i) => backoffCeiling(i, DEFAULT_BACKOFF) === capMs);
    expect(new Set(atCap).size).toBeGreaterThan(1);
  });

  it('sync refused with 503: each attempt posts one fresh snapshot and keeps none of them', async () => {
    const run = await outage(3, '503', /\/sync$/);
    expectBackoffShape(run);
    expectNothingAccumulates(run);
    expectConverged(run);
    // One sync POST per attempt, each a new cycle of its own; the engine's cache holds one
    // entry per current guest, not per attempt.
    expect(run.adb.syncAttempts).toHaveLength(run.delays.length + 2);
    expect(new Set(run.adb.syncAttempts).size).toBe(run.adb.syncAttempts.length);
    expect(run.footprints[0]?.cachedGuests).toBe(run.onNode.length);
    expect(run.listingsWhileDown).toBe(run.delays.length);
  });
});
